package sqlitestore

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

func TestPairsColumn(t *testing.T) {
	for _, ps := range [][]pair{nil, {{1, 2}}, {{1, 2}, {1, 9}, {3, 2}, {3, 700}, {1 << 40, 5}}} {
		got, err := decodePairs(encodePairs(ps))
		if err != nil || !slices.Equal(got, ps) {
			t.Errorf("%v: decoded %v, %v", ps, got, err)
		}
	}
	if _, err := decodePairs([]byte{0x80}); err == nil {
		t.Error("a truncated column decoded")
	}
}

// TestStore_PairsBackfill: a store of schema version 11, without pair
// postings, is brought up to 12. Before the backfill, during it and after
// it, the filters of a learner with a verb, an activity or both find
// exactly the statements that have them (with a StatementRef that
// inherits its target's terms), paged both ways; after it every statement
// has its pair postings.
func TestStore_PairsBackfill(t *testing.T) {
	const n = 700
	// Learner 100 (none of the others) likes statement 3 (learner 3,
	// verb 0, activity 3): the referrer matches learner 3 with "liked".
	liked := "https://example.org/verbs/liked"
	ref := storetest.Record(t, fmt.Appendf(nil, `{"id":"00000000-0000-4000-8000-999999999999","actor":%s,"verb":{"id":%q},"object":{"objectType":"StatementRef","id":%q}}`,
		killActor(100), liked, killID(3)))
	dir := version11Store(t, n, ref)

	// What each filter must find.
	type key struct{ learner, verb, activity int } // -1: any; verb 3: liked
	want := func(k key) []string {
		var out []string
		for i := range n {
			if (k.learner < 0 || i%killLearners == k.learner) && (k.verb < 0 || i%killVerbs == k.verb) &&
				(k.activity < 0 || i%killActivities == k.activity) {
				out = append(out, killID(i))
			}
		}
		// The referrer: learners 3 and 100%7 = 2, verbs 0 and liked,
		// activity 3.
		if (k.learner < 0 || k.learner == 3 || k.learner == 2) && (k.verb < 0 || k.verb == 0 || k.verb == 3) &&
			(k.activity < 0 || k.activity == 3) {
			out = append(out, ref.ID)
		}
		slices.Sort(out)
		return out
	}
	var keys []key
	for l := range killLearners {
		for v := -1; v <= killVerbs; v++ {
			for a := -1; a < killActivities; a++ {
				if v >= 0 || a >= 0 {
					keys = append(keys, key{l, v, a})
				}
			}
		}
	}
	check := func(s *Store, when string) {
		t.Helper()
		for _, k := range keys {
			f := statements.Filter{Limit: 9}
			agent, err := statements.AgentKey([]byte(killActor(k.learner)))
			if err != nil {
				t.Fatal(err)
			}
			f.Agent = agent
			switch {
			case k.verb == killVerbs:
				f.Verb = liked
			case k.verb >= 0:
				f.Verb = killVerb(k.verb)
			}
			if k.activity >= 0 {
				f.Activity = killActivity(k.activity)
			}
			for _, asc := range []bool{false, true} {
				f.Ascending, f.After = asc, 0
				var got []string
				for {
					p, err := s.QueryStatements(t.Context(), "t", f)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range p.Records {
						got = append(got, r.ID)
					}
					if !p.More {
						break
					}
					f.After = p.Records[len(p.Records)-1].Position
				}
				slices.Sort(got)
				if w := want(k); !slices.Equal(got, w) {
					t.Errorf("%s: filter %+v ascending %v: %d statements, want %d", when, k, asc, len(got), len(w))
				}
			}
		}
	}

	s, err := New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The write lock holds the backfill back.
	if err := s.lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := s.pairsFrom.Load(); p != n+2 {
		t.Fatalf("P after the migration: %d, want %d", p, n+2)
	}
	check(s, "before the backfill")
	wantPending := func(want int64) {
		t.Helper()
		info, err := Inspect(t.Context(), dir)
		if err != nil || info.PairsPending != want {
			t.Errorf("Inspect: %d statements still to backfill, want %d (%v)", info.PairsPending, want, err)
		}
	}
	wantPending(n + 1)
	for range 3 {
		if err := s.backfillPairs(t.Context(), 100); err != nil {
			t.Fatal(err)
		}
	}
	if p := s.pairsFrom.Load(); p != n+2-300 {
		t.Fatalf("P after three chunks of 100: %d, want %d", p, n+2-300)
	}
	check(s, "during the backfill")
	wantPending(n + 1 - 300)
	s.unlock()
	for deadline := time.Now().Add(20 * time.Second); s.pairsFrom.Load() > 1; {
		if time.Now().After(deadline) {
			t.Fatalf("the backfill stopped at P = %d", s.pairsFrom.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(s, "after the backfill")
	wantPending(0)
	var posts, stmts int
	if err := s.r.QueryRow(`SELECT count(*) FROM pair_postings`).Scan(&posts); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRow(`SELECT count(*) FROM statements WHERE pairs IS NULL OR length(pairs) = 0`).Scan(&stmts); err != nil {
		t.Fatal(err)
	}
	// Two pairs per statement; the referrer's two learners by its three
	// verbs and activities.
	if posts != 2*n+6 || stmts != 0 {
		t.Errorf("%d pair postings, want %d; %d statements without pairs", posts, 2*n+6, stmts)
	}
}

// TestPairListsFor: an agent with a verb or an activity becomes one pair
// list each, shortest first, beside the filter's other terms; without
// pairs (a range before P) the terms stay single.
func TestPairListsFor(t *testing.T) {
	agent := term{id: 1, n: 100, side: statements.PairAgent}
	verb := term{id: 2, n: 1000, side: statements.PairObject}
	activity := term{id: 3, n: 50, side: statements.PairObject}
	registration := term{id: 4, n: 5}
	related := term{id: 5, n: 20} // ra|: not in pairs
	cases := []struct {
		terms []term
		pairs bool
		want  []list
	}{
		{[]term{agent, verb}, true, []list{{term: 1, other: 2, n: 100}}},
		{[]term{agent, verb}, false, []list{{term: 1, n: 100}, {term: 2, n: 1000}}},
		{[]term{agent, verb, activity}, true, []list{{term: 1, other: 3, n: 50}, {term: 1, other: 2, n: 100}}},
		{[]term{registration, agent, verb}, true, []list{{term: 4, n: 5}, {term: 1, other: 2, n: 100}}},
		{[]term{agent}, true, []list{{term: 1, n: 100}}},
		{[]term{verb, activity}, true, []list{{term: 3, n: 50}, {term: 2, n: 1000}}},
		{[]term{related, verb}, true, []list{{term: 5, n: 20}, {term: 2, n: 1000}}},
	}
	for _, c := range cases {
		if got := pairListsFor(c.terms, c.pairs); !slices.Equal(got, c.want) {
			t.Errorf("%+v pairs %v: %+v, want %+v", c.terms, c.pairs, got, c.want)
		}
	}
}

// TestStore_MergesDuringBackfill: while the pairs of an upgraded store
// are backfilled, the statements written meanwhile still have their
// postings merged, so the postings in memory stay bounded.
func TestStore_MergesDuringBackfill(t *testing.T) {
	const n = 20_000
	dir := version11Store(t, n)
	s, err := New(t.Context(), dir, WithMergeEvery(100))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := n; ; k += 50 {
			select {
			case <-stop:
				return
			default:
			}
			var recs []*statements.Record
			for i := k; i < k+50; i++ {
				recs = append(recs, storetest.Record(t, killStatement(i)))
			}
			if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	merges := int64(0)
	for deadline := time.Now().Add(60 * time.Second); s.pairsFrom.Load() > 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the backfill stopped at P = %d", s.pairsFrom.Load())
		}
		_, merges = RecentStats(s)
	}
	close(stop)
	<-done
	if merges == 0 {
		t.Error("no merge ran while the backfill did")
	}
}

// version11Store returns the directory of a store as schema version 11
// left it, without pair postings: the statements killStatement(0) to
// killStatement(n-1), then extra.
func version11Store(t *testing.T, n int, extra ...*statements.Record) string {
	t.Helper()
	dir := t.TempDir()
	s, err := New(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for from := 0; from < n; from += 500 {
		var recs []*statements.Record
		for i := from; i < min(from+500, n); i++ {
			recs = append(recs, storetest.Record(t, killStatement(i)))
		}
		if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
			t.Fatal(err)
		}
	}
	if len(extra) > 0 {
		if err := s.InsertStatements(t.Context(), "t", extra); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TABLE pair_postings`, `DROP TABLE pairs_from`, `ALTER TABLE statements DROP COLUMN pairs`, `PRAGMA user_version = 11`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
