package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var pagingTests = []test{
	{"Walk", testPagingWalk},
	{"WalkWithVoided", testPagingWalkWithVoided},
	{"ConcurrentInserts", testPagingConcurrentInserts},
}

var consistentThroughTests = []test{
	{"Idle", testConsistentThroughIdle},
	{"ConcurrentWriters", testConsistentThroughConcurrentWriters},
	{"PagerMissesNothing", testConsistentThroughPagerMissesNothing},
}

// walk pages through f with the given page size and returns the records.
func walk(t testing.TB, s statements.Store, tenant string, f statements.Filter, limit int) []*statements.Record {
	t.Helper()
	f.Limit = limit
	return queryAll(t, s, tenant, f)
}

func testPagingWalk(t *testing.T, s statements.Store) {
	var all, alices []*statements.Record
	for i := range 7 {
		batch := make([]*statements.Record, i%4+1)
		for j := range batch {
			a := agent("bob")
			if (i+j)%3 == 0 {
				a = agent("alice")
			}
			batch[j] = rec(t, stmt(a, "completed", activity(fmt.Sprint(i, j))))
			if (i+j)%3 == 0 {
				alices = append(alices, batch[j])
			}
		}
		mustInsert(t, s, tenantA, batch...)
		all = append(all, batch...)
	}
	alice := agentKey(t, agent("alice"))
	for _, limit := range []int{1, 2, 3, 5, len(all), len(all) + 1} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{}, limit)), desc(all...))
			wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{Ascending: true}, limit)), ids(all))
			wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{Agent: alice}, limit)), desc(alices...))
			wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{Agent: alice, Ascending: true}, limit)), ids(alices))
		})
	}
	// After continues from any position.
	mid := all[len(all)/2]
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{After: mid.Position}), desc(all[:len(all)/2]...))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{After: mid.Position, Ascending: true}), ids(all[len(all)/2+1:]))
}

func testPagingWalkWithVoided(t *testing.T, s statements.Store) {
	var kept []*statements.Record
	for i := range 20 {
		r := rec(t, stmt(agent("alice"), "completed", activity(fmt.Sprint(i))))
		mustInsert(t, s, tenantA, r)
		if i%3 == 0 {
			v := rec(t, voiding(r.ID))
			mustInsert(t, s, tenantA, v)
			kept = append(kept, v)
		} else {
			kept = append(kept, r)
		}
	}
	for _, limit := range []int{1, 4, 7} {
		wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{}, limit)), desc(kept...))
		wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{Ascending: true}, limit)), ids(kept))
		wantIDs(t, ids(walk(t, s, tenantA, statements.Filter{Verb: verbID("completed")}, limit)), desc(kept...))
	}
}

// testPagingConcurrentInserts pages through a result while other
// goroutines insert: every matching statement stored before the first
// page is seen exactly once, in order, in both directions.
func testPagingConcurrentInserts(t *testing.T, s statements.Store) {
	n := short(200, 60)
	var before []*statements.Record
	for i := range n {
		before = append(before, rec(t, stmt(agent("alice"), "completed", activity(fmt.Sprint(i)))))
	}
	for i := 0; i < n; i += 10 {
		mustInsert(t, s, tenantA, before[i:i+10]...)
	}
	alice := agentKey(t, agent("alice"))
	for _, f := range []statements.Filter{{}, {Ascending: true}, {Agent: alice}, {Agent: alice, Ascending: true}} {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				// 100 each: an ascending walk chases the writers until
				// they stop, and a slow store's inserts take long.
				for i := 0; !stop.Load() && i < 100; i++ {
					a := agent("alice")
					if i%2 == 0 {
						a = agent("bob")
					}
					r := rec(t, stmt(a, "completed", activity(fmt.Sprint("w", w, i))))
					if err := s.InsertStatements(t.Context(), tenantA, []*statements.Record{r}); err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
				}
			})
		}
		got := walk(t, s, tenantA, f, 7)
		stop.Store(true)
		wg.Wait()
		wantUnique(t, got)
		for i := 1; i < len(got); i++ {
			if f.Ascending != (got[i].Position > got[i-1].Position) {
				t.Fatalf("%+v: positions out of order: %d then %d", f, got[i-1].Position, got[i].Position)
			}
		}
		seen := map[string]bool{}
		for _, r := range got {
			seen[r.ID] = true
		}
		for _, r := range before {
			if !seen[r.ID] {
				t.Fatalf("%+v: statement %s (position %d) stored before paging was never seen", f, r.ID, r.Position)
			}
		}
	}
}

func testConsistentThroughIdle(t *testing.T, s statements.Store) {
	r := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, r)
	// An idle store's watermark reaches its last statement (soon).
	var ct time.Time
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		var err error
		ct, err = s.ConsistentThrough(t.Context(), tenantA)
		if err != nil {
			t.Fatalf("ConsistentThrough: %v", err)
		}
		if !ct.Before(r.Stored) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ConsistentThrough %v of an idle store stays before the last Stored %v", ct, r.Stored)
		}
	}
	if ct.After(time.Now().Add(time.Second)) {
		t.Errorf("ConsistentThrough %v is in the future", ct)
	}
	// Statements stored later are stored after it.
	r2 := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, r2)
	if !r2.Stored.After(ct) {
		t.Errorf("Stored %v of a later statement is not after ConsistentThrough %v", r2.Stored, ct)
	}
	ct2, err := s.ConsistentThrough(t.Context(), tenantA)
	if err != nil {
		t.Fatalf("ConsistentThrough: %v", err)
	}
	if ct2.Before(ct) {
		t.Errorf("ConsistentThrough went back: %v then %v", ct, ct2)
	}
}

// ack is a statement a writer was told is stored.
type ack struct {
	id     string
	stored time.Time
	pos    int64
}

// writers runs n goroutines inserting batches of 1 to 5 statements until
// each has written perWriter batches, and returns the acknowledgements.
func writers(t *testing.T, s statements.Store, tenant string, n, perWriter int) (wait func() []ack) {
	var mu sync.Mutex
	var acks []ack
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				batch := make([]*statements.Record, 1+rng.IntN(5))
				for j := range batch {
					batch[j] = rec(t, stmt(agent(fmt.Sprint("learner-", rng.IntN(5))), "completed",
						activity(fmt.Sprint("w", w, "-", i, "-", j))))
				}
				if err := s.InsertStatements(t.Context(), tenant, batch); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				for _, r := range batch {
					acks = append(acks, ack{r.ID, r.Stored, r.Position})
				}
				mu.Unlock()
			}
		})
	}
	return func() []ack {
		wg.Wait()
		return acks
	}
}

// testConsistentThroughConcurrentWriters: while writers insert, a reader
// takes T = ConsistentThrough and reads every statement stored until T;
// each statement any writer had acknowledged with Stored <= T must be in
// that read.
func testConsistentThroughConcurrentWriters(t *testing.T, s statements.Store) {
	type snapshot struct {
		ct   time.Time
		seen map[string]bool
	}
	wait := writers(t, s, tenantA, 4, short(40, 15))
	done := make(chan []ack)
	go func() { done <- wait() }()
	var snaps []snapshot
	var acks []ack
	for acks == nil {
		select {
		case acks = <-done:
		default:
		}
		ct, err := s.ConsistentThrough(t.Context(), tenantA)
		if err != nil {
			t.Fatalf("ConsistentThrough: %v", err)
		}
		if n := len(snaps); n > 0 && ct.Before(snaps[n-1].ct) {
			t.Fatalf("ConsistentThrough went back: %v then %v", snaps[n-1].ct, ct)
		}
		got := walk(t, s, tenantA, statements.Filter{Until: ct, Ascending: true}, 100)
		wantUnique(t, got)
		seen := map[string]bool{}
		for _, r := range got {
			if r.Stored.After(ct) {
				t.Fatalf("Until %v returned statement %s stored %v", ct, r.ID, r.Stored)
			}
			seen[r.ID] = true
		}
		snaps = append(snaps, snapshot{ct, seen})
	}
	if len(acks) == 0 {
		t.Fatal("no statement written")
	}
	for _, sn := range snaps {
		for _, a := range acks {
			if !a.stored.After(sn.ct) && !sn.seen[a.id] {
				t.Fatalf("statement %s (Stored %v, position %d) missing from a read through ConsistentThrough %v",
					a.id, a.stored, a.pos, sn.ct)
			}
		}
	}
	t.Logf("%d statements, %d consistent reads", len(acks), len(snaps))
}

// testConsistentThroughPagerMissesNothing: a reader that pages ascending by
// position while writers insert (as a forwarder tails the log) sees every
// statement exactly once.
func testConsistentThroughPagerMissesNothing(t *testing.T, s statements.Store) {
	wait := writers(t, s, tenantA, 4, short(50, 20))
	done := make(chan []ack)
	go func() { done <- wait() }()
	seen := map[string]int{}
	var after int64
	var acks []ack
	for finished := false; ; {
		if !finished {
			select {
			case acks = <-done:
				finished = true // one more full pass after the last write
			default:
			}
		}
		p := mustQuery(t, s, tenantA, statements.Filter{Ascending: true, After: after, Limit: 10})
		for _, r := range p.Records {
			if r.Position <= after {
				t.Fatalf("position %d after cursor %d", r.Position, after)
			}
			after = r.Position
			seen[r.ID]++
		}
		if len(p.Records) == 0 {
			if finished {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("statement %s seen %d times", id, n)
		}
	}
	for _, a := range acks {
		if seen[a.id] != 1 {
			t.Fatalf("statement %s (position %d) skipped by the pager", a.id, a.pos)
		}
	}
	if got, want := len(seen), len(acks); got != want {
		t.Fatalf("pager saw %d statements, writers stored %d", got, want)
	}
}
