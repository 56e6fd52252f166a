package lrs

import (
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

func TestPerReplica(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    statements.Limits
		n    int
		want statements.Limits
	}{
		{"One", statements.Limits{Rate: 10, Burst: 20, Batch: 5}, 1, statements.Limits{Rate: 10, Burst: 20, Batch: 5}},
		{"Half", statements.Limits{Rate: 10, Burst: 20, Batch: 5}, 2, statements.Limits{Rate: 5, Burst: 10, Batch: 5}},
		{"BurstRoundsDown", statements.Limits{Rate: 10, Burst: 20}, 3, statements.Limits{Rate: 10.0 / 3, Burst: 6}},
		{"BurstAtLeastOne", statements.Limits{Rate: 1, Burst: 2}, 5, statements.Limits{Rate: 0.2, Burst: 1}},
		{"Unlimited", Unlimited, 4, Unlimited},
		{"NoneCountsOne", statements.Limits{Rate: 10, Burst: 20}, 0, statements.Limits{Rate: 10, Burst: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := perReplica(tc.l, tc.n); got != tc.want {
				t.Errorf("perReplica(%+v, %d) = %+v, want %+v", tc.l, tc.n, got, tc.want)
			}
		})
	}
}

func TestScaleLogins(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want loginScale
	}{
		{0, loginScale{freeKey: 5, freeAddr: 50, backoff: time.Second, max: 15 * time.Minute}},
		{1, loginScale{freeKey: 5, freeAddr: 50, backoff: time.Second, max: 15 * time.Minute}},
		{2, loginScale{freeKey: 2, freeAddr: 25, backoff: 2 * time.Second, max: 30 * time.Minute}},
		{8, loginScale{freeKey: 0, freeAddr: 6, backoff: 8 * time.Second, max: 2 * time.Hour}},
	} {
		if got := scaleLogins(tc.n); got != tc.want {
			t.Errorf("scaleLogins(%d) = %+v, want %+v", tc.n, got, tc.want)
		}
	}
}

// TestRateLimiter_LimitsChange: a bucket whose limits change keeps how
// full it was; it gets no fresh burst.
func TestRateLimiter_LimitsChange(t *testing.T) {
	r := newRateLimiter()
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	l := statements.Limits{Rate: 1, Burst: 10}
	for range 5 {
		if ok, _ := r.allow("k", l, now); !ok {
			t.Fatal("refused within the burst")
		}
	}
	// Half full (5 tokens of 10); with the burst halved, 2.5 of 5.
	half := perReplica(l, 2)
	got := 0
	for range 10 {
		if ok, _ := r.allow("k", half, now); ok {
			got++
		}
	}
	if got != 2 {
		t.Errorf("after the burst halved: %d allowed, want 2", got)
	}
}
