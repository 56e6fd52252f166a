package mongostore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
)

// TestStore_TrimLog: trimming deletes the blocks and commit outcomes of
// old batches, keeps the first and last blocks and the abort outcomes, and
// a process whose end of the chain is older than the trim still writes
// without reusing a position.
func TestStore_TrimLog(t *testing.T) {
	ctx := t.Context()
	db := newDatabase()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	const lease = 200 * time.Millisecond
	a := MustOpenStore(t, db, mongostore.WithNow(clock), mongostore.WithLease(lease))
	b := MustOpenStore(t, db, mongostore.WithNow(clock), mongostore.WithLease(lease))
	dead := MustOpenStore(t, db, mongostore.WithNow(clock), mongostore.WithLease(lease))
	n := 0
	insert := func(s *mongostore.Store, batches int) {
		t.Helper()
		for range batches {
			recs := []*statements.Record{record(t, stmtOf("a", "x")), record(t, stmtOf("b", "y"))}
			if err := s.InsertStatements(ctx, "t", recs); err != nil {
				t.Fatal(err)
			}
			n += len(recs)
		}
	}
	insert(a, 10) // blocks 1-10
	insert(b, 1)  // 11: b's end of the chain
	insert(a, 2)  // 12, 13
	if err := mongostore.CrashBeforeCommit(ctx, dead, "t", []*statements.Record{record(t, stmtOf("c", "z"))}); err != nil {
		t.Fatal(err) // 14, aborted below
	}
	advance(time.Second)
	if _, err := a.LogHead(ctx); err != nil { // settles 14
		t.Fatal(err)
	}
	advance(time.Hour)
	insert(a, 3) // 15-17
	if err := mongostore.TrimLog(ctx, a, clock().Add(-10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	blocks, outcomes, err := mongostore.LogSizes(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if blocks != 4 || outcomes != 4 {
		t.Errorf("after the trim: %d blocks, %d outcomes; want 4 (0, 15-17) and 4 (the abort of 14, 15-17)", blocks, outcomes)
	}
	if err := mongostore.TrimLog(ctx, a, clock().Add(-10*time.Minute)); err != nil {
		t.Errorf("a second trim: %v", err)
	}

	insert(b, 2)
	insert(a, 1)
	insert(dead, 1)
	entries, err := a.ReadLog(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]string{}
	for _, e := range entries {
		if id, ok := seen[e.Record.Position]; ok {
			t.Errorf("position %d holds %s and %s", e.Record.Position, id, e.Record.ID)
		}
		seen[e.Record.Position] = e.Record.ID
	}
	if got := len(entries); got != n {
		t.Errorf("ReadLog: %d statements, want %d", got, n)
	}
	if blocks, _, _ := mongostore.LogSizes(ctx, a); blocks != 8 {
		t.Errorf("after more writes: %d blocks, want 8", blocks)
	}
}
