package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// TestDays groups a stream by the days of Finnish time: a statement
// stored at 23:30 UTC belongs to the next day in Helsinki, and days are
// told as today, yesterday, or a weekday and date in the page's language.
func TestDays(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) // a Wednesday
	u, err := New(Config{Scope: func(*gin.Context) (*people.Scope, error) { return nil, nil }, Reader: &people.Reader{},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	st := []byte(`{"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://app.test/x"}}`)
	recs := []*statements.Record{
		{Position: 5, Stored: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), Statement: st},
		{Position: 4, Stored: time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC), Statement: st}, // 01:30 on the 2nd in Helsinki
		{Position: 3, Stored: time.Date(2026, 12, 1, 21, 30, 0, 0, time.UTC), Statement: st}, // 23:30 on the 1st
		{Position: 2, Stored: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC), Statement: st},
		{Position: 1, Stored: time.Date(2026, 6, 30, 21, 59, 0, 0, time.UTC), Statement: st}, // summer time: 00:59 on 1 July
	}
	for _, tt := range []struct {
		lang string
		want string
	}{
		{"fi", "2026-12-02 Tänään 11:00 01:30|2026-12-01 Eilen 23:30|2026-11-29 sunnuntai 29.11.2026 10:00|2026-07-01 keskiviikko 1.7.2026 00:59"},
		{"sv", "2026-12-02 I dag 11:00 01:30|2026-12-01 I går 23:30|2026-11-29 söndag 29.11.2026 10:00|2026-07-01 onsdag 1.7.2026 00:59"},
		{"en", "2026-12-02 Today 11:00 01:30|2026-12-01 Yesterday 23:30|2026-11-29 Sunday 29 November 2026 10:00|2026-07-01 Wednesday 1 July 2026 00:59"},
	} {
		var got []string
		for _, d := range u.days(tt.lang, "Aino", recs, nil) {
			s := d.ISO + " " + d.Label
			for _, e := range d.Entries {
				s += " " + e.Time
			}
			got = append(got, s)
		}
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.lang, g, tt.want)
		}
	}
}

func TestChartBars(t *testing.T) {
	bars := chartBars([]int{0, 0, 4, 0, 0, 0, 0, 0, 0, 2})
	if bars[2].H != chartBase-chartTop-14 || bars[9].H != bars[2].H/2 || bars[0].H != 0 || bars[9].Label != "90–100" || bars[0].Label != "0–9" {
		t.Errorf("%+v", bars)
	}
	if bars[2].Y+bars[2].H != chartBase || bars[1].X-bars[0].X != barW+barGap {
		t.Errorf("geometry %+v", bars[:3])
	}
	if none := chartBars(make([]int, 10)); none[0].H != 0 {
		t.Errorf("empty: %+v", none)
	}
}

func TestBucket(t *testing.T) {
	for pct, want := range map[int]int{-5: 0, 0: 0, 9: 0, 10: 1, 59: 5, 90: 9, 99: 9, 100: 9, 120: 9} {
		if got := bucket(pct); got != want {
			t.Errorf("bucket(%d) = %d, want %d", pct, got, want)
		}
	}
}
