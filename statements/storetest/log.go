package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

// logTests check statements.Log, for the stores that implement it.
var logTests = []test{
	{"ReadLogOrder", testReadLogOrder},
	{"ReadLogConcurrentWriters", testReadLogConcurrent},
	{"Cursor", testCursor},
	{"Lease", testLease},
	{"SkimLog", testSkimLog},
}

// mustLog returns s as its log.
func mustLog(t *testing.T, s statements.Store) statements.Log { return s }

func mustReadLog(t testing.TB, l statements.Log, after int64, limit int) []statements.LogEntry {
	t.Helper()
	es, err := l.ReadLog(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("ReadLog(%d, %d): %v", after, limit, err)
	}
	return es
}

func testReadLogOrder(t *testing.T, s statements.Store) {
	l := mustLog(t, s)
	if got := mustReadLog(t, l, 0, 10); len(got) != 0 {
		t.Fatalf("ReadLog of an empty store: %d entries", len(got))
	}
	if head, err := l.LogHead(t.Context()); err != nil || head != 0 {
		t.Fatalf("LogHead of an empty store: %d, %v", head, err)
	}
	a := recs(t, stmt(agent("ann"), "did", activity("a1")), stmt(agent("ann"), "did", activity("a2")))
	b := recs(t, stmt(agent("bob"), "did", activity("b1")))
	c := rec(t, voiding(a[0].ID))
	mustInsert(t, s, tenantA, a...)
	mustInsert(t, s, tenantB, b...)
	mustInsert(t, s, tenantA, c)
	want := []struct {
		tenant string
		rec    *statements.Record
	}{{tenantA, a[0]}, {tenantA, a[1]}, {tenantB, b[0]}, {tenantA, c}}

	got := mustReadLog(t, l, 0, 0)
	if len(got) != len(want) {
		t.Fatalf("ReadLog(0): %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Tenant != w.tenant || got[i].Record.ID != w.rec.ID || got[i].Record.Position != w.rec.Position {
			t.Errorf("entry %d: got %s %s @%d, want %s %s @%d", i, got[i].Tenant, got[i].Record.ID,
				got[i].Record.Position, w.tenant, w.rec.ID, w.rec.Position)
		}
		if !got[i].Record.Stored.Equal(w.rec.Stored) || string(got[i].Record.JSON()) != string(w.rec.JSON()) {
			t.Errorf("entry %d: got %s, want %s", i, got[i].Record.JSON(), w.rec.JSON())
		}
	}
	if got[3].Record.Voids != a[0].ID {
		t.Errorf("voiding entry: Voids = %q, want %q", got[3].Record.Voids, a[0].ID)
	}
	// Paging: after the second, two at most.
	page := mustReadLog(t, l, got[1].Record.Position, 2)
	if len(page) != 2 || page[0].Record.ID != b[0].ID || page[1].Record.ID != c.ID {
		t.Errorf("ReadLog(after 2nd, 2): got %d entries", len(page))
	}
	if rest := mustReadLog(t, l, got[3].Record.Position, 10); len(rest) != 0 {
		t.Errorf("ReadLog after the last: %d entries", len(rest))
	}
	head, err := l.LogHead(t.Context())
	if err != nil || head != c.Position {
		t.Errorf("LogHead: %d, %v, want %d", head, err, c.Position)
	}
}

// testReadLogConcurrent tails the log while concurrent writers insert: the
// reader, continuing after the last position it got, sees every statement
// exactly once (DESIGN.md decision 2: no gap filled behind the reader).
func testReadLogConcurrent(t *testing.T, s statements.Store) {
	l := mustLog(t, s)
	writers, batches := 8, short(25, 8)
	inserted := make(chan string, writers*batches*3)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				n := 1 + (w+i)%3
				rs := make([]*statements.Record, n)
				for j := range rs {
					rs[j] = rec(t, stmt(agent(fmt.Sprintf("w%d", w)), "did", activity(fmt.Sprintf("a%d-%d", i, j))))
				}
				tenant := tenantA
				if w%2 == 1 {
					tenant = tenantB
				}
				if err := s.InsertStatements(t.Context(), tenant, rs); err != nil {
					t.Errorf("InsertStatements: %v", err)
					return
				}
				for _, r := range rs {
					inserted <- r.ID
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var after int64
	read := func() {
		for _, e := range mustReadLog(t, l, after, 7) {
			if e.Record.Position <= after {
				t.Fatalf("ReadLog(%d) returned position %d", after, e.Record.Position)
			}
			after = e.Record.Position
			seen[e.Record.ID]++
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		read()
	}
	for {
		n := len(seen)
		read()
		if len(seen) == n {
			break
		}
	}
	close(inserted)
	total := 0
	for id := range inserted {
		total++
		if seen[id] != 1 {
			t.Errorf("statement %s read %d times, want once", id, seen[id])
		}
	}
	if len(seen) != total {
		t.Errorf("read %d statements, inserted %d", len(seen), total)
	}
}

func testCursor(t *testing.T, s statements.Store) {
	l := mustLog(t, s)
	ctx := t.Context()
	cursor := func(sink string) int64 {
		t.Helper()
		pos, err := l.Cursor(ctx, sink)
		if err != nil {
			t.Fatalf("Cursor(%s): %v", sink, err)
		}
		return pos
	}
	set := func(sink string, pos int64) {
		t.Helper()
		if err := l.SetCursor(ctx, sink, pos); err != nil {
			t.Fatalf("SetCursor(%s, %d): %v", sink, pos, err)
		}
	}
	if got := cursor("kafka"); got != 0 {
		t.Fatalf("new cursor: %d, want 0", got)
	}
	set("kafka", 5)
	set("webhook", 2)
	set("kafka", 3) // never moves back
	if got := cursor("kafka"); got != 5 {
		t.Errorf("kafka cursor: %d, want 5", got)
	}
	set("kafka", 9)
	if got, got2 := cursor("kafka"), cursor("webhook"); got != 9 || got2 != 2 {
		t.Errorf("cursors: kafka %d webhook %d, want 9 and 2", got, got2)
	}
}

func testLease(t *testing.T, s statements.Store) {
	l := mustLog(t, s)
	ctx := t.Context()
	acquire := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := l.AcquireLease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
		}
		return ok
	}
	if !acquire("relay:kafka", "p1", time.Minute) {
		t.Fatal("p1 could not take a free lease")
	}
	if acquire("relay:kafka", "p2", time.Minute) {
		t.Fatal("p2 took a lease p1 holds")
	}
	if !acquire("relay:kafka", "p1", time.Minute) {
		t.Fatal("p1 could not renew its lease")
	}
	if !acquire("relay:webhook", "p2", time.Minute) {
		t.Fatal("p2 could not take another, free lease")
	}
	if err := l.ReleaseLease(ctx, "relay:kafka", "p2"); err != nil {
		t.Fatalf("ReleaseLease by a non-holder: %v", err)
	}
	if acquire("relay:kafka", "p2", time.Minute) {
		t.Fatal("a non-holder released p1's lease")
	}
	if err := l.ReleaseLease(ctx, "relay:kafka", "p1"); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if !acquire("relay:kafka", "p2", 50*time.Millisecond) {
		t.Fatal("p2 could not take a released lease")
	}
	time.Sleep(120 * time.Millisecond)
	if !acquire("relay:kafka", "p1", time.Minute) {
		t.Fatal("p1 could not take an expired lease")
	}

	// Racing holders: exactly one wins a free lease.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wg.Go(func() {
			ok, err := l.AcquireLease(ctx, "race", fmt.Sprintf("h%d", i), time.Minute)
			if err != nil {
				t.Errorf("AcquireLease: %v", err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d holders took one lease, want 1", winners)
	}
}

// testSkimLog: for a store that is a statements.LogSkimmer, SkimLog lists
// what ReadLog returns, and ReadLogOf reads the entries of the tenants
// asked for, erasures included, over any range.
func testSkimLog(t *testing.T, s statements.Store) {
	sk, ok := s.(statements.LogSkimmer)
	if !ok {
		t.Skipf("%T is no statements.LogSkimmer; readers use ReadLog", s)
	}
	l := mustLog(t, s)
	ctx := t.Context()
	if es, err := sk.SkimLog(ctx, 0, 10); err != nil || len(es) != 0 {
		t.Fatalf("SkimLog of an empty store: %d entries, %v", len(es), err)
	}
	ann := agent("ann")
	for i := range 6 {
		tenant := tenantA
		if i%3 == 1 {
			tenant = tenantB
		}
		mustInsert(t, s, tenant, recs(t, stmt(ann, "did", activity(fmt.Sprintf("a%d", i))), stmt(agent("bob"), "did", activity("b")))...)
	}
	mustErase(t, s, tenantB, ann)
	mustInsert(t, s, tenantA, rec(t, stmt(agent("cid"), "did", activity("c"))))
	all := mustReadLog(t, l, 0, 0)
	if len(all) < 11 || !slices.ContainsFunc(all, func(e statements.LogEntry) bool { return e.Erasure != nil }) {
		t.Fatalf("ReadLog: %d entries, want at least 11 with an erasure", len(all))
	}
	for _, limit := range []int{0, 1, 4, 7} {
		for _, after := range []int64{0, all[2].Record.Position, all[len(all)-2].Record.Position} {
			want := mustReadLog(t, l, after, limit)
			got, err := sk.SkimLog(ctx, after, limit)
			if err != nil {
				t.Fatalf("SkimLog(%d, %d): %v", after, limit, err)
			}
			if len(got) != len(want) {
				t.Fatalf("SkimLog(%d, %d): %d entries, ReadLog %d", after, limit, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.Tenant != w.Tenant || g.Record.Position != w.Record.Position || !g.Record.Stored.Equal(w.Record.Stored) ||
					(g.Erasure == nil) != (w.Erasure == nil) {
					t.Errorf("SkimLog(%d, %d) entry %d: %s @%d %v erasure %v; ReadLog %s @%d %v erasure %v", after, limit, i,
						g.Tenant, g.Record.Position, g.Record.Stored, g.Erasure != nil, w.Tenant, w.Record.Position, w.Record.Stored, w.Erasure != nil)
				}
			}
		}
	}
	for _, tenants := range [][]string{{tenantA}, {tenantB}, {tenantA, tenantB}, {"nobody"}, nil} {
		for _, r := range [][2]int{{0, len(all) - 1}, {2, 9}, {5, 6}, {7, 7}} {
			after := int64(0)
			if r[0] > 0 {
				after = all[r[0]-1].Record.Position
			}
			through := all[r[1]].Record.Position
			var want []statements.LogEntry
			for _, e := range all {
				if e.Record.Position > after && e.Record.Position <= through && slices.Contains(tenants, e.Tenant) {
					want = append(want, e)
				}
			}
			got, err := sk.ReadLogOf(ctx, after, through, tenants)
			if err != nil {
				t.Fatalf("ReadLogOf(%d, %d, %v): %v", after, through, tenants, err)
			}
			if len(got) != len(want) {
				t.Fatalf("ReadLogOf(%d, %d, %v): %d entries, want %d", after, through, tenants, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.Tenant != w.Tenant || g.Record.Position != w.Record.Position || (g.Erasure == nil) != (w.Erasure == nil) ||
					(w.Erasure == nil && (g.Record.ID != w.Record.ID || string(g.Record.JSON()) != string(w.Record.JSON()))) {
					t.Errorf("ReadLogOf(%d, %d, %v) entry %d: %s @%d %s; want %s @%d %s", after, through, tenants, i,
						g.Tenant, g.Record.Position, g.Record.ID, w.Tenant, w.Record.Position, w.Record.ID)
				}
			}
		}
	}
}
