package sqlitestore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetest"
)

// TestStore_PagingWhileMerging: readers page through filters, both ways,
// while a writer stores statements and merges move their postings from
// memory into the postings table: a page never repeats or skips a
// statement, and every statement stored before the paging began is
// found.
func TestStore_PagingWhileMerging(t *testing.T) {
	s, err := New(t.Context(), t.TempDir(), WithMergeEvery(20))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store := func(from, n int) {
		recs := make([]*statements.Record, n)
		for j := range recs {
			recs[j] = storetest.Record(t, killStatement(from+j))
		}
		if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
			t.Error(err)
		}
	}
	for i := 0; i < 600; i += 50 {
		store(i, 50)
	}
	var stored atomic.Int64 // statements 0 to stored-1 are stored
	stored.Store(600)
	mergesBefore := s.recent.merges.Load()
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 600; ; i += 5 {
			select {
			case <-stop:
				return
			default:
			}
			store(i, 5)
			stored.Store(int64(i + 5))
		}
	})
	learner, err := statements.AgentKey([]byte(killActor(3)))
	if err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	for g := range 4 {
		readers.Go(func() {
			for round := range 6 {
				asc := (g+round)%2 == 0
				f := statements.Filter{Verb: killVerb(1), Limit: 7, Ascending: asc}
				match := func(i int) bool { return i%killVerbs == 1 }
				if g >= 2 {
					f.Agent = learner
					match = func(i int) bool { return i%killVerbs == 1 && i%killLearners == 3 }
				}
				before := int(stored.Load())
				seen := map[string]bool{}
				var last int64
				for {
					p, err := s.QueryStatements(t.Context(), "t", f)
					if err != nil {
						t.Error(err)
						return
					}
					for _, r := range p.Records {
						if last != 0 && (asc && r.Position <= last || !asc && r.Position >= last) {
							t.Errorf("reader %d round %d: position %d after %d", g, round, r.Position, last)
						}
						last = r.Position
						if seen[r.ID] {
							t.Errorf("reader %d round %d: %s twice", g, round, r.ID)
						}
						seen[r.ID] = true
					}
					if !p.More {
						break
					}
					f.After = last
				}
				missing := 0
				for i := range before {
					if match(i) && !seen[killID(i)] {
						missing++
					}
				}
				if missing > 0 {
					t.Errorf("reader %d round %d (ascending %v): %d statements stored before the paging not found", g, round, asc, missing)
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	writer.Wait()
	if n := s.recent.merges.Load() - mergesBefore; n == 0 {
		t.Error("no merge ran while the readers paged")
	} else {
		t.Logf("%d merges while the readers paged; %d statements stored", n, stored.Load())
	}
}

// TestStore_ManyFirstQueries: more readers than the reader pool has
// connections ask, at once, queries whose statements are not prepared yet
// and whose matches are in memory. A reader that held a connection in its
// transaction while waiting for another to prepare a statement would wait
// for ever with the others.
func TestStore_ManyFirstQueries(t *testing.T) {
	s, err := New(t.Context(), t.TempDir(), WithMergeEvery(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := make([]*statements.Record, 40)
	for j := range recs {
		recs[j] = storetest.Record(t, killStatement(j))
	}
	if err := s.InsertStatements(t.Context(), "t", recs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Go(func() {
			// Each limit and direction is a shape of its own.
			f := statements.Filter{Verb: killVerb(1), Limit: 1 + g, Ascending: g%2 == 0}
			p, err := s.QueryStatements(ctx, "t", f)
			if err != nil {
				t.Errorf("reader %d: %v", g, err)
			} else if len(p.Records) == 0 {
				t.Errorf("reader %d: no statements", g)
			}
		})
	}
	wg.Wait()
}
