package storetest

import (
	"fmt"
	"testing"

	"github.com/digione/lrs/statements"
)

var voidingTests = []test{
	{"OK", testVoidingOK},
	{"BeforeTarget", testVoidingBeforeTarget},
	{"SameBatch", testVoidingSameBatch},
	{"ErrInvalidVoidingVoiding", testVoidingErrInvalidVoidingVoiding},
	{"ErrInvalidVoidingVoidingInBatch", testVoidingErrInvalidVoidingVoidingInBatch},
	{"VoidingStatementNeverVoided", testVoidingStatementNeverVoided},
	{"IdempotentVoided", testVoidingIdempotentVoided},
	{"Query", testVoidingQuery},
}

var statementRefTests = []test{
	{"TargetFirst", testRefTargetFirst},
	{"TargetLater", testRefTargetLater},
	{"Transitive", testRefTransitive},
	{"NotVoided", testRefNotVoided},
	{"CredentialNotInherited", testRefCredentialNotInherited},
}

// wantVoided checks that id is stored and voided.
func wantVoided(t testing.TB, s statements.Store, tenant, id string) {
	t.Helper()
	_, err := s.Statement(t.Context(), tenant, id, false)
	if got := statements.ErrorCode(err); got != statements.ENotFound {
		t.Fatalf("Statement(%s, voided=false) of a voided statement: code %q (%v), want %q", id, got, err, statements.ENotFound)
	}
	r := mustStatement(t, s, tenant, id, true)
	if !r.Voided {
		t.Errorf("Statement(%s, voided=true): Voided false", id)
	}
}

// wantNotVoided checks that id is stored and not voided.
func wantNotVoided(t testing.TB, s statements.Store, tenant, id string) {
	t.Helper()
	r := mustStatement(t, s, tenant, id, false)
	if r.Voided {
		t.Errorf("Statement(%s, voided=false): Voided true", id)
	}
	_, err := s.Statement(t.Context(), tenant, id, true)
	if got := statements.ErrorCode(err); got != statements.ENotFound {
		t.Fatalf("Statement(%s, voided=true) of a statement not voided: code %q (%v), want %q", id, got, err, statements.ENotFound)
	}
}

func testVoidingOK(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	other := rec(t, stmt(agent("bob"), "completed", activity("course")))
	mustInsert(t, s, tenantA, target, other)
	v := rec(t, voiding(target.ID))
	if v.Voids != target.ID {
		t.Fatalf("Voids: got %q, want %q", v.Voids, target.ID)
	}
	mustInsert(t, s, tenantA, v)
	if v.Voided {
		t.Errorf("voiding statement: Voided true")
	}
	wantVoided(t, s, tenantA, target.ID)
	wantNotVoided(t, s, tenantA, v.ID)
	wantNotVoided(t, s, tenantA, other.ID)
	got := mustStatement(t, s, tenantA, target.ID, true)
	target.Voided = true
	wantSameRecord(t, got, target)
}

func testVoidingBeforeTarget(t *testing.T, s statements.Store) {
	id := newID()
	v := rec(t, voiding(id))
	mustInsert(t, s, tenantA, v)
	target := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), id))
	mustInsert(t, s, tenantA, target)
	if !target.Voided {
		t.Errorf("target stored after its voiding statement: Voided false")
	}
	wantVoided(t, s, tenantA, id)
	wantNotVoided(t, s, tenantA, v.ID)
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), []string{v.ID})
}

func testVoidingSameBatch(t *testing.T, s statements.Store) {
	for _, voidingFirst := range []bool{false, true} {
		target := rec(t, stmt(agent("alice"), "completed", activity("course")))
		v := rec(t, voiding(target.ID))
		if voidingFirst {
			mustInsert(t, s, tenantA, v, target)
		} else {
			mustInsert(t, s, tenantA, target, v)
		}
		wantVoided(t, s, tenantA, target.ID)
		wantNotVoided(t, s, tenantA, v.ID)
	}
}

func testVoidingErrInvalidVoidingVoiding(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	v1 := rec(t, voiding(target.ID))
	mustInsert(t, s, tenantA, target, v1)

	other := rec(t, stmt(agent("bob"), "completed", activity("course")))
	v2 := rec(t, voiding(v1.ID))
	err := s.InsertStatements(t.Context(), tenantA, []*statements.Record{other, v2})
	wantCode(t, err, statements.EInvalid)
	wantAbsent(t, s, tenantA, other.ID)
	wantAbsent(t, s, tenantA, v2.ID)
	wantNotVoided(t, s, tenantA, v1.ID)
	wantVoided(t, s, tenantA, target.ID)
}

func testVoidingErrInvalidVoidingVoidingInBatch(t *testing.T, s statements.Store) {
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		target := rec(t, stmt(agent("alice"), "completed", activity("course")))
		v1 := rec(t, voiding(target.ID))
		v2 := rec(t, voiding(v1.ID))
		all := []*statements.Record{target, v1, v2}
		batch := []*statements.Record{all[order[0]], all[order[1]], all[order[2]]}
		err := s.InsertStatements(t.Context(), tenantA, batch)
		wantCode(t, err, statements.EInvalid)
		for _, r := range all {
			wantAbsent(t, s, tenantA, r.ID)
		}
	}
	// A statement voiding itself voids a voiding statement.
	id := newID()
	self := rec(t, withID(voiding(id), id))
	err := s.InsertStatements(t.Context(), tenantA, []*statements.Record{self})
	wantCode(t, err, statements.EInvalid)
	wantAbsent(t, s, tenantA, id)
}

// testVoidingStatementNeverVoided: a statement that arrives after a
// voiding statement targeting it, and is itself a voiding statement, is
// stored and not voided (xAPI: a statement is voided if and only if it is
// not a voiding statement and a voiding statement targets it).
func testVoidingStatementNeverVoided(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	mustInsert(t, s, tenantA, target)
	id := newID()
	v2 := rec(t, voiding(id))
	mustInsert(t, s, tenantA, v2)
	v1 := rec(t, withID(voiding(target.ID), id))
	mustInsert(t, s, tenantA, v1)
	wantNotVoided(t, s, tenantA, v1.ID)
	wantVoided(t, s, tenantA, target.ID)
}

func testVoidingIdempotentVoided(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	v := rec(t, voiding(target.ID))
	mustInsert(t, s, tenantA, target, v)
	again := rec(t, withID(stmt(agent("alice"), "completed", activity("course")), target.ID))
	mustInsert(t, s, tenantA, again)
	if again.Position != target.Position {
		t.Errorf("Position: got %d, want %d", again.Position, target.Position)
	}
	wantVoided(t, s, tenantA, target.ID)
	vAgain := rec(t, withID(voiding(target.ID), v.ID))
	mustInsert(t, s, tenantA, vAgain)
	wantVoided(t, s, tenantA, target.ID)
	wantNotVoided(t, s, tenantA, v.ID)
}

// testVoidingQuery: voided statements are left out of queries; voiding
// statements are returned, also by the filters their target matches.
func testVoidingQuery(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	other := rec(t, stmt(agent("alice"), "completed", activity("quiz")))
	mustInsert(t, s, tenantA, target, other)
	v := rec(t, voiding(target.ID))
	mustInsert(t, s, tenantA, v)
	alice := agentKey(t, agent("alice"))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{}), desc(other, v))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Ascending: true}), ids([]*statements.Record{other, v}))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: alice}), desc(other, v))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Activity: activityID("course")}), []string{v.ID})
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Verb: statements.VerbVoided}), []string{v.ID})
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Verb: verbID("completed")}), desc(other, v))
	// Voided statements do not count against the limit.
	p := mustQuery(t, s, tenantA, statements.Filter{Limit: 2, Activity: activityID("course"), RelatedActivities: true})
	wantIDs(t, ids(p.Records), []string{v.ID})
	if p.More {
		t.Errorf("More: got true, want false")
	}
}

// refCase is a target statement with the filters that match it.
type refCase struct {
	target  obj
	filters map[string]statements.Filter
}

func newRefCase(t testing.TB) refCase {
	target := stmt(agent("alice"), "completed", activity("course"))
	reg := newID()
	target["context"] = obj{
		"registration":      reg,
		"instructor":        agent("ingrid"),
		"contextActivities": obj{"parent": []any{activity("module")}},
	}
	return refCase{
		target: target,
		filters: map[string]statements.Filter{
			"agent":            {Agent: agentKey(t, agent("alice"))},
			"related agent":    {Agent: agentKey(t, agent("ingrid")), RelatedAgents: true},
			"verb":             {Verb: verbID("completed")},
			"activity":         {Activity: activityID("course")},
			"related activity": {Activity: activityID("module"), RelatedActivities: true},
			"registration":     {Registration: reg},
			"combined": {Agent: agentKey(t, agent("alice")), Verb: verbID("completed"),
				Activity: activityID("course"), Registration: reg},
		},
	}
}

// check checks that each filter returns want.
func (c refCase) check(t testing.TB, s statements.Store, tenant string, want []string) {
	t.Helper()
	for name, f := range c.filters {
		got := queryIDs(t, s, tenant, f)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("filter %s: got %v, want %v", name, got, want)
		}
	}
}

func testRefTargetFirst(t *testing.T, s statements.Store) {
	c := newRefCase(t)
	target := rec(t, c.target)
	ref := rec(t, stmt(agent("bob"), "liked", stmtRef(target.ID)))
	if ref.RefTarget != target.ID {
		t.Fatalf("RefTarget: got %q, want %q", ref.RefTarget, target.ID)
	}
	noise := rec(t, stmt(agent("carol"), "liked", activity("other")))
	insertEach(t, s, tenantA, target, noise, ref)
	c.check(t, s, tenantA, desc(target, ref))
	// The referring statement keeps its own terms.
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: agentKey(t, agent("bob"))}), []string{ref.ID})
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Verb: verbID("liked")}), desc(noise, ref))
}

func testRefTargetLater(t *testing.T, s statements.Store) {
	c := newRefCase(t)
	id := newID()
	ref := rec(t, stmt(agent("bob"), "liked", stmtRef(id)))
	noise := rec(t, stmt(agent("carol"), "liked", activity("other")))
	insertEach(t, s, tenantA, ref, noise)
	c.check(t, s, tenantA, []string{})
	target := rec(t, withID(c.target, id))
	mustInsert(t, s, tenantA, target)
	c.check(t, s, tenantA, desc(ref, target))
	wantIDs(t, queryIDs(t, s, tenantA, statements.Filter{Agent: agentKey(t, agent("bob"))}), []string{ref.ID})
}

// testRefTransitive: A refers to B, B refers to C; A and B match C's
// filters, in every order of arrival, in separate batches or one.
func testRefTransitive(t *testing.T, s statements.Store) {
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for i, order := range orders {
		for _, oneBatch := range []bool{false, true} {
			tenant := fmt.Sprintf("transitive-%d-%v", i, oneBatch)
			c := newRefCase(t)
			idB, idC := newID(), newID()
			a := rec(t, stmt(agent("bob"), "liked", stmtRef(idB)))
			b := rec(t, withID(stmt(agent("carol"), "shared", stmtRef(idC)), idB))
			cc := rec(t, withID(c.target, idC))
			all := []*statements.Record{a, b, cc}
			batch := []*statements.Record{all[order[0]], all[order[1]], all[order[2]]}
			if oneBatch {
				mustInsert(t, s, tenant, batch...)
			} else {
				insertEach(t, s, tenant, batch...)
			}
			c.check(t, s, tenant, desc(batch...))
			// B's own terms reach A, and not C.
			wantIDs(t, queryIDs(t, s, tenant, statements.Filter{Verb: verbID("shared")}), desc(sortByPosition(a, b)...))
			wantIDs(t, queryIDs(t, s, tenant, statements.Filter{Verb: verbID("liked")}), []string{a.ID})
		}
	}
}

// testRefNotVoided: a StatementRef that is not a voiding statement does not
// void its target.
func testRefNotVoided(t *testing.T, s statements.Store) {
	target := rec(t, stmt(agent("alice"), "completed", activity("course")))
	ref := rec(t, stmt(agent("bob"), "liked", stmtRef(target.ID)))
	mustInsert(t, s, tenantA, target, ref)
	wantNotVoided(t, s, tenantA, target.ID)
	if ref.Voids != "" {
		t.Fatalf("Voids: got %q, want none", ref.Voids)
	}
}

func sortByPosition(rs ...*statements.Record) []*statements.Record {
	out := append([]*statements.Record(nil), rs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Position < out[j-1].Position; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// storedBy returns r as stored by the credential key, with its term.
func storedBy(r *statements.Record, key string) *statements.Record {
	r.Credential = key
	r.Terms = statements.MergeTerms(r.Terms, []string{statements.CredentialTerm(key)})
	return r
}

// testRefCredentialNotInherited: a StatementRef matches its target's terms
// but not the target's credential, in every order of arrival, so that
// Filter.Credential selects exactly what one credential stored.
func testRefCredentialNotInherited(t *testing.T, s statements.Store) {
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}}
	for i, order := range orders {
		for _, oneBatch := range []bool{false, true} {
			tenant := fmt.Sprintf("credential-%d-%v", i, oneBatch)
			target := storedBy(rec(t, stmt(agent("alice"), "completed", activity("course"))), "cred-a")
			ref := storedBy(rec(t, stmt(agent("bob"), "liked", stmtRef(target.ID))), "cred-b")
			refRef := storedBy(rec(t, stmt(agent("carol"), "shared", stmtRef(ref.ID))), "cred-c")
			all := []*statements.Record{target, ref, refRef}
			batch := []*statements.Record{all[order[0]], all[order[1]], all[order[2]]}
			if oneBatch {
				mustInsert(t, s, tenant, batch...)
			} else {
				insertEach(t, s, tenant, batch...)
			}
			for _, c := range []struct {
				f    statements.Filter
				want []string
			}{
				{statements.Filter{Credential: "cred-a"}, []string{target.ID}},
				{statements.Filter{Credential: "cred-b"}, []string{ref.ID}},
				{statements.Filter{Credential: "cred-c"}, []string{refRef.ID}},
				{statements.Filter{Credential: "cred-c", Verb: verbID("completed")}, []string{refRef.ID}},
				{statements.Filter{Credential: "cred-a", Verb: verbID("liked")}, []string{}},
				{statements.Filter{Verb: verbID("completed")}, desc(sortByPosition(all...)...)},
			} {
				if got := queryIDs(t, s, tenant, c.f); fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("order %v, one batch %v, %+v: got %v, want %v", order, oneBatch, c.f, got, c.want)
				}
			}
		}
	}
}
