package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var insertTests = []test{
	{"OK", testInsertOK},
	{"Order", testInsertOrder},
	{"Idempotent", testInsertIdempotent},
	{"IdempotentInBatch", testInsertIdempotentInBatch},
	{"IdempotentOverOlderFingerprint", testInsertIdempotentOverOlderFingerprint},
	{"ErrConflict", testInsertErrConflict},
	{"ErrConflictStoresNothing", testInsertErrConflictStoresNothing},
	{"DuplicateInBatch", testInsertDuplicateInBatch},
	{"ErrInvalidDuplicateInBatch", testInsertErrInvalidDuplicateInBatch},
	{"RaceSameContent", testInsertRaceSameContent},
	{"RaceConflict", testInsertRaceConflict},
}

var statementTests = []test{
	{"OK", testStatementOK},
	{"ErrNotFound", testStatementErrNotFound},
}

func testInsertOK(t *testing.T, s statements.Store) {
	rs := recs(t,
		stmt(agent("alice"), "completed", activity("course")),
		stmt(agent("bob"), "attempted", activity("quiz")),
		stmt(agent("carol"), "experienced", activity("video")),
	)
	mustInsert(t, s, tenantA, rs...)
	for i, r := range rs {
		if r.Position <= 0 {
			t.Errorf("record %d: Position %d, want > 0", i, r.Position)
		}
		if r.Stored.IsZero() {
			t.Errorf("record %d: Stored not set", i)
		}
		if !r.Stored.Equal(r.Stored.Truncate(time.Millisecond)) {
			t.Errorf("record %d: Stored %v has more than millisecond precision", i, r.Stored)
		}
		if r.Voided {
			t.Errorf("record %d: Voided", i)
		}
		if i > 0 {
			if r.Position <= rs[i-1].Position {
				t.Errorf("record %d: Position %d, want > %d (batch order)", i, r.Position, rs[i-1].Position)
			}
			if r.Stored.Before(rs[i-1].Stored) {
				t.Errorf("record %d: Stored %v before %v", i, r.Stored, rs[i-1].Stored)
			}
		}
	}
	for _, r := range rs {
		got := mustStatement(t, s, tenantA, r.ID, false)
		wantSameRecord(t, got, r)

		var m map[string]any
		if err := json.Unmarshal(got.JSON(), &m); err != nil {
			t.Fatalf("JSON(): %v: %s", err, got.JSON())
		}
		if got, want := m["stored"], statements.FormatTime(r.Stored); got != want {
			t.Errorf("JSON() stored: got %v, want %v", got, want)
		}
		if got, want := m["id"], r.ID; got != want {
			t.Errorf("JSON() id: got %v, want %v", got, want)
		}
		// Sent without a timestamp: its timestamp is its stored time.
		if got, want := m["timestamp"], statements.FormatTime(r.Stored); got != want {
			t.Errorf("JSON() timestamp: got %v, want %v (stored)", got, want)
		}
	}
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(rs...))
}

func testInsertOrder(t *testing.T, s statements.Store) {
	var all []*statements.Record
	for i := range 5 {
		batch := recs(t, stmt(agent("alice"), "completed", activity(fmt.Sprint(i))),
			stmt(agent("bob"), "completed", activity(fmt.Sprint(i))))
		mustInsert(t, s, tenantA, batch...)
		all = append(all, batch...)
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Position <= all[i-1].Position {
			t.Errorf("record %d: Position %d, want > %d", i, all[i].Position, all[i-1].Position)
		}
		if all[i].Stored.Before(all[i-1].Stored) {
			t.Errorf("record %d: Stored %v before %v", i, all[i].Stored, all[i-1].Stored)
		}
	}
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(all...))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Ascending: true}), ids(all))
}

func testInsertIdempotent(t *testing.T, s statements.Store) {
	id := newID()
	orig := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id))
	mustInsert(t, s, tenantA, orig)
	time.Sleep(2 * time.Millisecond)

	// The same statement sent again, with a verb display and an activity
	// definition that differ: the same content under the spec's rules.
	again := stmt(agent("alice"), "completed", activity("course"))
	again["verb"] = map[string]any{"id": verbID("completed"), "display": map[string]any{"fi-FI": "suoritti"}}
	again["object"] = map[string]any{"objectType": "Activity", "id": activityID("course")}
	r := rec(t, withID(again, id))
	if r.Fingerprint != orig.Fingerprint {
		t.Fatalf("fingerprints differ: the suite's statements are wrong")
	}
	mustInsert(t, s, tenantA, r)
	if r.Position != orig.Position {
		t.Errorf("Position: got %d, want %d (the stored one)", r.Position, orig.Position)
	}
	if !r.Stored.Equal(orig.Stored) {
		t.Errorf("Stored: got %v, want %v (the stored one)", r.Stored, orig.Stored)
	}
	got := mustStatement(t, s, tenantA, id, false)
	wantSameRecord(t, got, orig)
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), []string{id})
}

func testInsertIdempotentInBatch(t *testing.T, s statements.Store) {
	known := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, known)
	again := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), known.ID))
	fresh := rec(t, stmt(agent("bob"), "completed", activity("course")))
	mustInsert(t, s, tenantA, again, fresh)
	if again.Position != known.Position {
		t.Errorf("known record: Position %d, want %d", again.Position, known.Position)
	}
	if fresh.Position <= known.Position {
		t.Errorf("new record: Position %d, want > %d", fresh.Position, known.Position)
	}
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(known, fresh))
}

// testInsertIdempotentOverOlderFingerprint stores a statement whose
// fingerprint was taken under other comparison rules (as an earlier
// version of the LRS did): the same statement sent again is accepted, and
// a different one still conflicts, alone or in a batch.
func testInsertIdempotentOverOlderFingerprint(t *testing.T, s statements.Store) {
	id := newID()
	st := withID(stmt(agent("alice"), "completed", activity("course")), id)
	st["result"] = map[string]any{"duration": "PT1.5S"}
	orig := rec(t, st)
	fp := orig.Fingerprint
	orig.Fingerprint = strings.Repeat("0f", 32)
	mustInsert(t, s, tenantA, orig)

	st["result"] = map[string]any{"duration": "PT1.50S"}
	again := rec(t, st)
	if again.Fingerprint != fp {
		t.Fatalf("fingerprints differ: the suite's statements are wrong")
	}
	fresh := rec(t, stmt(agent("bob"), "completed", activity("course")))
	mustInsert(t, s, tenantA, fresh, again)
	if again.Position != orig.Position {
		t.Errorf("Position: got %d, want %d (the stored one)", again.Position, orig.Position)
	}

	st["result"] = map[string]any{"duration": "PT1.6S"}
	other := rec(t, st)
	err := s.InsertStatements(t.Context(), tenantA, []*statements.Record{rec(t, stmt(agent("carol"), "completed", activity("course"))), other})
	wantCode(t, err, statements.EConflict)
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(orig, fresh))
}

func testInsertErrConflict(t *testing.T, s statements.Store) {
	id := newID()
	orig := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id))
	mustInsert(t, s, tenantA, orig)
	other := rec(t, withID(stmt(agent("alice"), "failed", activity("course")), id))
	err := s.InsertStatements(t.Context(), tenantA, []*statements.Record{other})
	wantCode(t, err, statements.EConflict)
	wantSameRecord(t, mustStatement(t, s, tenantA, id, false), orig)
}

func testInsertErrConflictStoresNothing(t *testing.T, s statements.Store) {
	orig := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, orig)
	batch := recs(t,
		stmt(agent("bob"), "completed", activity("course")),
		stmt(agent("carol"), "completed", activity("course")),
		withID(stmt(agent("alice"), "failed", activity("course")), orig.ID),
		stmt(agent("dave"), "completed", activity("course")),
		voiding(orig.ID),
	)
	err := s.InsertStatements(t.Context(), tenantA, batch)
	wantCode(t, err, statements.EConflict)
	for i, r := range batch {
		if i == 2 {
			continue
		}
		wantAbsent(t, s, tenantA, r.ID)
	}
	wantSameRecord(t, mustStatement(t, s, tenantA, orig.ID, false), orig)
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), []string{orig.ID})
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: agentKey(t, agent("bob"))}), []string{})

	// The batch without the conflict goes through.
	ok := append(batch[:2:2], batch[3:]...)
	mustInsert(t, s, tenantA, ok...)
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(batch[0], batch[1], batch[3], batch[4]))
}

func testInsertDuplicateInBatch(t *testing.T, s statements.Store) {
	id := newID()
	a := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id))
	b := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id))
	c := rec(t, stmt(agent("bob"), "completed", activity("course")))
	mustInsert(t, s, tenantA, a, c, b)
	if a.Position != b.Position {
		t.Errorf("duplicates: Positions %d and %d, want equal", a.Position, b.Position)
	}
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(a, c))
}

func testInsertErrInvalidDuplicateInBatch(t *testing.T, s statements.Store) {
	id := newID()
	batch := []*statements.Record{
		rec(t, stmt(agent("bob"), "completed", activity("course"))),
		rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id)),
		rec(t, withID(stmt(agent("alice"), "failed", activity("course")), id)),
	}
	err := s.InsertStatements(t.Context(), tenantA, batch)
	wantCode(t, err, statements.EInvalid)
	wantAbsent(t, s, tenantA, id)
	wantAbsent(t, s, tenantA, batch[0].ID)
}

// testInsertRaceSameContent races writers sending the same batch: each
// succeeds, every statement is stored once.
func testInsertRaceSameContent(t *testing.T, s statements.Store) {
	const writers = 4
	rounds := short(20, 5)
	for range rounds {
		ss := make([]obj, 5)
		for i := range ss {
			ss[i] = withID(stmt(agent("alice"), "completed", activity(fmt.Sprint(i))), newID())
		}
		var wg sync.WaitGroup
		results := make([][]*statements.Record, writers)
		errs := make([]error, writers)
		for w := range writers {
			results[w] = recs(t, ss...)
			wg.Go(func() {
				errs[w] = s.InsertStatements(t.Context(), tenantA, results[w])
			})
		}
		wg.Wait()
		for w := range writers {
			if errs[w] != nil {
				t.Fatalf("writer %d: %v", w, errs[w])
			}
			for i, r := range results[w] {
				if r.Position != results[0][i].Position {
					t.Fatalf("writer %d record %d: Position %d, writer 0 got %d", w, i, r.Position, results[0][i].Position)
				}
			}
		}
	}
	all := queryAll(t, s, tenantA, statements.Filter{Limit: 50})
	if got, want := len(all), rounds*5; got != want {
		t.Fatalf("stored statements: got %d, want %d", got, want)
	}
	wantUnique(t, all)
}

// testInsertRaceConflict races two writers whose batches share ids with
// different content: one batch is stored whole, the other fails with
// EConflict and stores nothing.
func testInsertRaceConflict(t *testing.T, s statements.Store) {
	rounds := short(30, 10)
	for round := range rounds {
		shared := make([]string, 3)
		for i := range shared {
			shared[i] = newID()
		}
		batch := func(verb string, reverse bool) []*statements.Record {
			var ss []obj
			for _, id := range shared {
				ss = append(ss, withID(stmt(agent("alice"), verb, activity("course")), id))
			}
			if reverse {
				for i, j := 0, len(ss)-1; i < j; i, j = i+1, j-1 {
					ss[i], ss[j] = ss[j], ss[i]
				}
			}
			ss = append(ss, stmt(agent("bob"), verb, activity("course")))
			ss = append([]obj{stmt(agent("carol"), verb, activity("course"))}, ss...)
			return recs(t, ss...)
		}
		a, b := batch("passed", false), batch("failed", round%2 == 1)
		var errA, errB error
		var wg sync.WaitGroup
		wg.Go(func() { errA = s.InsertStatements(t.Context(), tenantA, a) })
		wg.Go(func() { errB = s.InsertStatements(t.Context(), tenantA, b) })
		wg.Wait()
		winner, loser, errLoser := a, b, errB
		switch {
		case errA == nil && errB == nil:
			t.Fatalf("round %d: both conflicting batches stored", round)
		case errA != nil && errB != nil:
			t.Fatalf("round %d: both batches failed: %v; %v", round, errA, errB)
		case errA != nil:
			winner, loser, errLoser = b, a, errA
		}
		wantCode(t, errLoser, statements.EConflict)
		for _, r := range winner {
			got := mustStatement(t, s, tenantA, r.ID, false)
			if got.Fingerprint != r.Fingerprint {
				t.Fatalf("round %d: statement %s has the loser's content", round, r.ID)
			}
		}
		wantAbsent(t, s, tenantA, loser[0].ID)
		wantAbsent(t, s, tenantA, loser[len(loser)-1].ID)
	}
	all := queryAll(t, s, tenantA, statements.Filter{Limit: 50})
	if got, want := len(all), rounds*5; got != want {
		t.Fatalf("stored statements: got %d, want %d", got, want)
	}
	wantUnique(t, all)
}

// wantUnique checks that no id or position occurs twice.
func wantUnique(t testing.TB, rs []*statements.Record) {
	t.Helper()
	seenID := map[string]bool{}
	seenPos := map[int64]bool{}
	for _, r := range rs {
		if seenID[r.ID] {
			t.Fatalf("statement %s returned twice", r.ID)
		}
		if seenPos[r.Position] {
			t.Fatalf("position %d returned twice", r.Position)
		}
		seenID[r.ID], seenPos[r.Position] = true, true
	}
}

func testStatementOK(t *testing.T, s statements.Store) {
	r := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, r)
	wantSameRecord(t, mustStatement(t, s, tenantA, r.ID, false), r)
	_, err := s.Statement(t.Context(), tenantA, r.ID, true)
	wantCode(t, err, statements.ENotFound)
}

func testStatementErrNotFound(t *testing.T, s statements.Store) {
	mustInsert(t, s, tenantA, rec(t, stmt(agent("alice"), "completed", activity("course"))))
	wantAbsent(t, s, tenantA, newID())
}
