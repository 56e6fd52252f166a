package lrs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// replicaSet is n Servers sharing one store, as n LRS processes behind
// one Service share one MongoDB: each with its own Replicas and the same
// clock.
type replicaSet struct {
	store    *sqlitestore.Store
	srvs     []*httptest.Server
	replicas []*lrs.Replicas
	now      *time.Time
}

func mustOpenReplicaSet(tb testing.TB, n int) *replicaSet {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	rs := &replicaSet{store: store, now: &now}
	for i := range n {
		r := lrs.NewReplicas(lrs.ReplicasConfig{Store: store, ID: string(rune('a' + i))})
		srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken,
			Now: func() time.Time { return *rs.now }, Replicas: r, LoginPause: time.Millisecond})))
		tb.Cleanup(srv.Close)
		rs.srvs, rs.replicas = append(rs.srvs, srv), append(rs.replicas, r)
	}
	return rs
}

// beat makes every replica beat twice, so that each has seen all.
func (rs *replicaSet) beat(tb testing.TB) {
	tb.Helper()
	for range 2 {
		for _, r := range rs.replicas {
			if err := r.Beat(tb.Context()); err != nil {
				tb.Fatalf("Beat: %v", err)
			}
		}
	}
}

// TestReplicas_Count: replicas sharing a store count one another through
// their leases, report it as lrs_replicas, and count one fewer after one
// leaves.
func TestReplicas_Count(t *testing.T) {
	rs := mustOpenReplicaSet(t, 3)
	if got := rs.replicas[0].Count(); got != 1 {
		t.Errorf("Count before the first beat: %d, want 1", got)
	}
	rs.beat(t)
	for i, r := range rs.replicas {
		if got := r.Count(); got != 3 {
			t.Errorf("replica %d counts %d, want 3", i, got)
		}
		if b := mustCall(t, rs.srvs[i], "GET", "/metrics", "", "", http.StatusOK); !strings.Contains(string(b), "\nlrs_replicas 3\n") {
			t.Errorf("replica %d: /metrics lacks lrs_replicas 3", i)
		}
	}
	if err := rs.replicas[2].Leave(t.Context()); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	rs.replicas = rs.replicas[:2]
	rs.beat(t)
	for i, r := range rs.replicas {
		if got := r.Count(); got != 2 {
			t.Errorf("replica %d counts %d after one left, want 2", i, got)
		}
	}
}

// failingCounter is a store whose leases cannot be counted.
type failingCounter struct {
	*sqlitestore.Store
	fail atomic.Bool
}

func (f *failingCounter) CountLeases(ctx context.Context, prefix string) (int, error) {
	if f.fail.Load() {
		return 0, errors.New("the store does not answer")
	}
	return f.Store.CountLeases(ctx, prefix)
}

// TestReplicas_KeepsLastCount: a count the store cannot give keeps the
// last one; a pinned count never changes.
func TestReplicas_KeepsLastCount(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	fc := &failingCounter{Store: store}
	a := lrs.NewReplicas(lrs.ReplicasConfig{Store: fc, ID: "a"})
	b := lrs.NewReplicas(lrs.ReplicasConfig{Store: fc, ID: "b"})
	for _, r := range []*lrs.Replicas{a, b, a} {
		if err := r.Beat(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	fc.fail.Store(true)
	if err := a.Beat(t.Context()); err == nil {
		t.Error("Beat on a failing store: no error")
	}
	if got := a.Count(); got != 2 {
		t.Errorf("Count after a failed beat: %d, want the last, 2", got)
	}
	pinned := lrs.FixedReplicas(4)
	if err := pinned.Beat(t.Context()); err != nil || pinned.Count() != 4 {
		t.Errorf("FixedReplicas(4): Beat %v, Count %d", err, pinned.Count())
	}
	if got := lrs.FixedReplicas(0).Count(); got != 1 {
		t.Errorf("FixedReplicas(0).Count() = %d, want 1", got)
	}
}

// TestReplicas_RateLimit: with 2 replicas each lets through half of a
// credential's burst, and two replicas given a burst of requests in turns
// accept no more than the credential's burst together.
func TestReplicas_RateLimit(t *testing.T) {
	rs := mustOpenReplicaSet(t, 2)
	rs.beat(t)
	a, b := rs.srvs[0], rs.srvs[1]
	mustCall(t, a, "POST", "/admin/tenants", bearer, `{"id":"espoo","limits":{"rate":1,"burst":10}}`, http.StatusCreated)

	t.Run("HalfBurstPerReplica", func(t *testing.T) {
		c := mustCreateCredential(t, a, "espoo", `{"scopes":["all"]}`)
		for i := range 5 {
			if got, _, body := call(t, a, "GET", "/xapi/statements", c, ""); got != http.StatusOK {
				t.Fatalf("request %d of a burst of 10 over 2 replicas: %d %s", i+1, got, body)
			}
		}
		got, h, body := call(t, a, "GET", "/xapi/statements", c, "")
		if got != http.StatusTooManyRequests || h.Get("Retry-After") != "2" || !strings.Contains(string(body), "across 2 LRS replicas") {
			t.Fatalf("6th request to one of 2 replicas: %d, Retry-After %q, %s; want 429 after 2 s (0.5 per second)", got, h.Get("Retry-After"), body)
		}
		// The other replica has its own half.
		mustCall(t, b, "GET", "/xapi/statements", c, "", http.StatusOK)
		// Half the rate: a token in 2 s, not 1 s.
		*rs.now = rs.now.Add(time.Second)
		mustCall(t, a, "GET", "/xapi/statements", c, "", http.StatusTooManyRequests)
		*rs.now = rs.now.Add(time.Second)
		mustCall(t, a, "GET", "/xapi/statements", c, "", http.StatusOK)
	})
	t.Run("CombinedWithinBurst", func(t *testing.T) {
		c := mustCreateCredential(t, a, "espoo", `{"scopes":["all"]}`)
		accepted := 0
		for i := range 30 {
			if got, _, _ := call(t, rs.srvs[i%2], "GET", "/xapi/statements", c, ""); got == http.StatusOK {
				accepted++
			}
		}
		if accepted != 10 {
			t.Errorf("2 replicas accepted %d requests of a burst of 30, want the credential's burst, 10", accepted)
		}
	})
	t.Run("ScaleDown", func(t *testing.T) {
		// One replica leaves: the other takes the whole burst, without a
		// fresh one for what it spent.
		c := mustCreateCredential(t, a, "espoo", `{"scopes":["all"]}`)
		for range 5 {
			mustCall(t, a, "GET", "/xapi/statements", c, "", http.StatusOK)
		}
		if err := rs.replicas[1].Leave(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := rs.replicas[0].Beat(t.Context()); err != nil || rs.replicas[0].Count() != 1 {
			t.Fatalf("after one left: Beat %v, Count %d", err, rs.replicas[0].Count())
		}
		accepted := 0
		for range 20 {
			if got, _, _ := call(t, a, "GET", "/xapi/statements", c, ""); got == http.StatusOK {
				accepted++
			}
		}
		if accepted != 0 {
			t.Errorf("after the scale-down, the replica whose half was spent accepted %d, want 0", accepted)
		}
		*rs.now = rs.now.Add(10 * time.Second)
		for range 10 {
			mustCall(t, a, "GET", "/xapi/statements", c, "", http.StatusOK)
		}
		mustCall(t, a, "GET", "/xapi/statements", c, "", http.StatusTooManyRequests)
	})
}

// TestReplicas_LoginBackoff: a guesser spreading wrong secrets over 2
// replicas has as many checked before the slowdown as against one LRS,
// waits twice as long on each, and the holder of the secret always gets
// in.
func TestReplicas_LoginBackoff(t *testing.T) {
	checked := func(rs *replicaSet, key string) int {
		n := 0
		for i := range 40 {
			got, _, _ := call(t, rs.srvs[i%len(rs.srvs)], "GET", "/xapi/statements", key+":guess", "")
			switch got {
			case http.StatusUnauthorized:
				n++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("wrong secret: %d", got)
			}
		}
		return n
	}
	one := mustOpenReplicaSet(t, 1)
	one.beat(t)
	mustCall(t, one.srvs[0], "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	want := checked(one, strings.Split(mustCreateCredential(t, one.srvs[0], "espoo", `{"scopes":["all"]}`), ":")[0])

	two := mustOpenReplicaSet(t, 2)
	two.beat(t)
	mustCall(t, two.srvs[0], "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	good := mustCreateCredential(t, two.srvs[0], "espoo", `{"scopes":["all"]}`)
	key := strings.Split(good, ":")[0]
	if got := checked(two, key); got > want {
		t.Errorf("2 replicas checked %d wrong secrets at once, one LRS %d", got, want)
	}
	for _, srv := range two.srvs {
		// The 3rd failure on a replica waited 2 s (1 s on one LRS), each
		// after it twice as long, up to 30 minutes (15 on one LRS): one
		// guess in 15 minutes over the two.
		got, h, _ := call(t, srv, "GET", "/xapi/statements", key+":guess", "")
		if ra := h.Get("Retry-After"); got != http.StatusTooManyRequests || ra != "1800" {
			t.Errorf("after 20 failures on a replica of 2: %d, Retry-After %q; want 429, 1800", got, ra)
		}
		mustCall(t, srv, "GET", "/xapi/statements", good, "", http.StatusOK)
	}
}

// countingSizer counts the reads of the store's size, and fails them
// while fail is set.
type countingSizer struct {
	statements.Sizer
	n    atomic.Int64
	fail atomic.Bool
}

func (c *countingSizer) Size(ctx context.Context) (statements.StoreSize, error) {
	c.n.Add(1)
	if c.fail.Load() {
		return statements.StoreSize{}, errors.New("the store does not answer")
	}
	return c.Sizer.Size(ctx)
}

// TestMetrics_StoreSize: /metrics reports the store's size, read at most
// every StoreSizeEvery however often it is scraped.
func TestMetrics_StoreSize(t *testing.T) {
	store := mustBootstrapped(t)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	sizer := &countingSizer{Sizer: store}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Sizer: sizer, Now: func() time.Time { return now }})))
	defer srv.Close()
	size := func() string {
		t.Helper()
		b := mustCall(t, srv, "GET", "/metrics", "", "", http.StatusOK)
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "lrs_store_size_bytes "); ok {
				return v
			}
		}
		t.Fatalf("/metrics lacks lrs_store_size_bytes:\n%s", b)
		return ""
	}
	first := size()
	if first == "0" {
		t.Errorf("lrs_store_size_bytes 0")
	}
	mustCall(t, srv, "POST", "/xapi/statements", testKey+":"+testSecret,
		`{"actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`, http.StatusOK)
	if got := size(); got != first {
		t.Errorf("lrs_store_size_bytes %s within 30 s of %s: read again", got, first)
	}
	if got := sizer.n.Load(); got != 1 {
		t.Errorf("2 scrapes within 30 s read the size %d times, want 1", got)
	}
	now = now.Add(lrs.StoreSizeEvery)
	if got := size(); got == first {
		t.Errorf("lrs_store_size_bytes still %s after 30 s and a statement stored", got)
	}
	if got := sizer.n.Load(); got != 2 {
		t.Errorf("reads of the size after 30 s: %d, want 2", got)
	}
	if b := mustCall(t, srv, "GET", "/metrics", "", "", http.StatusOK); strings.Contains(string(b), "lrs_store_statements ") {
		t.Errorf("/metrics has lrs_store_statements for a store that keeps no count")
	}
}

// TestMetrics_StoreSizeFails: a size the store cannot give is asked for
// again only after StoreSizeEvery, and the last one read stays reported.
func TestMetrics_StoreSizeFails(t *testing.T) {
	store := mustBootstrapped(t)
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	sizer := &countingSizer{Sizer: store}
	sizer.fail.Store(true)
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Sizer: sizer, Now: func() time.Time { return now }})))
	defer srv.Close()
	scrape := func() bool {
		t.Helper()
		return strings.Contains(string(mustCall(t, srv, "GET", "/metrics", "", "", http.StatusOK)), "\nlrs_store_size_bytes ")
	}
	for range 3 {
		if scrape() {
			t.Error("lrs_store_size_bytes before the size could be read")
		}
	}
	if got := sizer.n.Load(); got != 1 {
		t.Errorf("3 scrapes of a failing store within 30 s asked it %d times, want 1", got)
	}
	sizer.fail.Store(false)
	now = now.Add(lrs.StoreSizeEvery)
	if !scrape() {
		t.Error("no lrs_store_size_bytes once the store answers")
	}
	sizer.fail.Store(true)
	now = now.Add(lrs.StoreSizeEvery)
	if !scrape() {
		t.Error("lrs_store_size_bytes gone when the store stopped answering; want the last size")
	}
}
