package storetest

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var erasureTests = []test{
	{"Roles", testEraseRoles},
	{"Teacher", testEraseTeacher},
	{"Log", testEraseLog},
	{"Again", testEraseAgain},
	{"Attachments", testEraseAttachments},
	{"Documents", testEraseDocuments},
	{"Steps", testEraseSteps},
	{"ConcurrentInserts", testEraseConcurrentInserts},
	{"Key", testErasureKey},
	{"ErrNotFound", testErasureErrNotFound},
}

// mustErase erases the agent a from tenant.
func mustErase(t testing.TB, s statements.Store, tenant string, a obj) (statements.Erasure, *statements.ErasureReceipt) {
	t.Helper()
	key, err := s.ErasureKey(t.Context(), tenant)
	if err != nil {
		t.Fatalf("ErasureKey: %v", err)
	}
	e, err := statements.NewErasure(key, tenant, agentKey(t, a), "storetest", time.Now())
	if err != nil {
		t.Fatalf("NewErasure: %v", err)
	}
	rc, err := s.EraseAgent(t.Context(), tenant, e)
	if err != nil {
		t.Fatalf("EraseAgent: %v", err)
	}
	if rc.Status != statements.ErasureCompleted || rc.ID != e.ID || rc.AgentHash != e.AgentHash || rc.Completed.IsZero() {
		t.Fatalf("receipt: %+v", rc)
	}
	got, err := s.ErasureReceipt(t.Context(), tenant, e.ID)
	if err != nil {
		t.Fatalf("ErasureReceipt: %v", err)
	}
	if *got != *rc {
		t.Fatalf("ErasureReceipt:\n got %+v\nwant %+v", got, rc)
	}
	return e, rc
}

// wantCounts checks a receipt's counts of statements.
func wantCounts(t testing.TB, rc *statements.ErasureReceipt, deleted, pseudonymised int) {
	t.Helper()
	if rc.StatementsDeleted != deleted || rc.StatementsPseudonymised != pseudonymised {
		t.Fatalf("receipt: %d deleted, %d pseudonymised; want %d, %d", rc.StatementsDeleted, rc.StatementsPseudonymised, deleted, pseudonymised)
	}
}

// sortedIDs returns the ids of rs, sorted.
func sortedIDs(rs ...*statements.Record) []string {
	out := ids(rs)
	slices.Sort(out)
	return out
}

// wantFound checks the ids that a query finds on every page, in any order.
func wantFound(t testing.TB, s statements.Store, tenant string, f statements.Filter, want []string) {
	t.Helper()
	got := ids(queryAll(t, s, tenant, f))
	slices.Sort(got)
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("query %+v:\n got %v\nwant %v", f, got, want)
	}
}

// wantNotNamed checks that the stored statement id no longer holds the
// learner and holds the pseudonym, and that its fingerprint is that of
// its bytes.
func wantNotNamed(t testing.TB, s statements.Store, tenant, id, learner string, e statements.Erasure) *statements.Record {
	t.Helper()
	r, err := s.Statement(t.Context(), tenant, id, false)
	if err != nil {
		r, err = s.Statement(t.Context(), tenant, id, true)
	}
	if err != nil {
		t.Fatalf("Statement(%s): %v", id, err)
	}
	if bytes.Contains(r.Statement, []byte(learner)) {
		t.Fatalf("statement %s still names %s: %s", id, learner, r.Statement)
	}
	fp, err := statements.Fingerprint(r.Statement)
	if err != nil || fp != r.Fingerprint {
		t.Errorf("statement %s: fingerprint %s, of its bytes %s (%v)", id, r.Fingerprint, fp, err)
	}
	return r
}

// testEraseRoles erases a learner who appears in every role.
func testEraseRoles(t *testing.T, s statements.Store) {
	l, teacher, other := agent("learner"), agent("teacher"), agent("other")
	lk := agentKey(t, l)
	ownAct := rec(t, stmt(l, "experienced", activity("a")))
	graded := rec(t, stmt(teacher, "graded", l))
	alone := rec(t, stmt(obj{"objectType": "Group", "member": []any{l}}, "attempted", activity("a")))
	team := rec(t, with(stmt(other, "attempted", activity("a")), "context",
		obj{"team": obj{"objectType": "Group", "name": "team", "member": []any{l, other}}}))
	taught := rec(t, with(stmt(other, "completed", activity("a")), "context", obj{"instructor": l}))
	pair := rec(t, stmt(obj{"objectType": "Group", "member": []any{l, other}}, "attempted", activity("b")))
	sub := rec(t, stmt(other, "planned", obj{"objectType": "SubStatement", "actor": l,
		"verb": obj{"id": verbID("meet")}, "object": activity("c")}))
	mustInsert(t, s, tenantA, ownAct, graded, alone, team, taught, pair, sub)
	voidOwn := rec(t, voiding(ownAct.ID))
	refOwn := rec(t, stmt(other, "liked", stmtRef(graded.ID)))
	unrelated := rec(t, stmt(teacher, "created", activity("a")))
	mustInsert(t, s, tenantA, voidOwn, refOwn, unrelated)
	elsewhere := rec(t, stmt(l, "experienced", activity("a")))
	mustInsert(t, s, tenantB, elsewhere)
	before := mustStatement(t, s, tenantA, unrelated.ID, false)

	e, rc := mustErase(t, s, tenantA, l)
	wantCounts(t, rc, 4, 5)
	for _, r := range []*statements.Record{ownAct, graded, alone, voidOwn} {
		wantAbsent(t, s, tenantA, r.ID)
	}
	for _, r := range []*statements.Record{team, taught, pair, sub, refOwn} {
		wantNotNamed(t, s, tenantA, r.ID, "learner@", e)
	}
	got := wantNotNamed(t, s, tenantA, team.ID, "learner@", e)
	if !bytes.Contains(got.Statement, []byte(statements.ErasedHomePage)) || !bytes.Contains(got.Statement, []byte("other@example.org")) {
		t.Errorf("team statement: %s", got.Statement)
	}
	wantSameRecord(t, mustStatement(t, s, tenantA, unrelated.ID, false), before)

	for _, related := range []bool{false, true} {
		wantFound(t, s, tenantA, statements.Filter{Agent: lk, RelatedAgents: related}, nil)
	}
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey(), RelatedAgents: true},
		sortedIDs(team, taught, pair, sub, refOwn))
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey()}, sortedIDs(pair, refOwn))
	// With a verb or an activity too (a store may keep lists of pairs).
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey(), Verb: verbID("attempted")}, sortedIDs(pair))
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey(), Activity: activityID("b")}, sortedIDs(pair))
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey(), Verb: verbID("liked")}, sortedIDs(refOwn))
	wantFound(t, s, tenantA, statements.Filter{Agent: lk, Verb: verbID("attempted")}, nil)
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, other), Activity: activityID("b")}, sortedIDs(pair))
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, other), RelatedAgents: true},
		sortedIDs(team, taught, pair, sub, refOwn))
	wantFound(t, s, tenantA, statements.Filter{Verb: verbID("attempted")}, sortedIDs(team, pair))
	wantFound(t, s, tenantA, statements.Filter{Activity: activityID("a")}, sortedIDs(team, taught, unrelated))
	wantFound(t, s, tenantB, statements.Filter{Agent: lk}, sortedIDs(elsewhere))
}

// testEraseTeacher erases a teacher: the students' statements stay, with
// the teacher's place taken by the pseudonym.
func testEraseTeacher(t *testing.T, s statements.Store) {
	teacher, a, b := agent("teacher"), agent("anna"), agent("bert")
	own := rec(t, stmt(teacher, "created", activity("course")))
	var students []*statements.Record
	for _, st := range []obj{a, b} {
		students = append(students, rec(t, with(stmt(st, "completed", activity("course")), "context", obj{"instructor": teacher})))
	}
	graded := rec(t, stmt(teacher, "graded", a))
	mustInsert(t, s, tenantA, append(students, own, graded)...)

	e, rc := mustErase(t, s, tenantA, teacher)
	wantCounts(t, rc, 2, 2)
	wantAbsent(t, s, tenantA, own.ID)
	wantAbsent(t, s, tenantA, graded.ID)
	for _, r := range students {
		wantNotNamed(t, s, tenantA, r.ID, "teacher@", e)
	}
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, a)}, sortedIDs(students[0]))
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, teacher), RelatedAgents: true}, nil)
	wantFound(t, s, tenantA, statements.Filter{Agent: e.PseudonymKey(), RelatedAgents: true}, sortedIDs(students...))
}

// erasureEntries returns the erasure entries of the log after pos.
func erasureEntries(t testing.TB, s statements.Store, after int64) (statements.ErasureEntry, []statements.LogEntry) {
	t.Helper()
	var sum statements.ErasureEntry
	var es []statements.LogEntry
	for {
		page := mustReadLog(t, s, after, 0)
		if len(page) == 0 {
			break
		}
		for i, e := range page {
			if i > 0 && e.Record.Position <= page[i-1].Record.Position {
				t.Fatalf("ReadLog: position %d after %d", e.Record.Position, page[i-1].Record.Position)
			}
			if e.Erasure == nil {
				continue
			}
			es = append(es, e)
			sum.ID, sum.Subject = e.Erasure.ID, e.Erasure.Subject
			sum.Erased = append(sum.Erased, e.Erasure.Erased...)
			sum.Pseudonymised = append(sum.Pseudonymised, e.Erasure.Pseudonymised...)
		}
		after = page[len(page)-1].Record.Position
	}
	slices.Sort(sum.Erased)
	slices.Sort(sum.Pseudonymised)
	return sum, es
}

// testEraseLog checks the erasure's entries in the log: after the
// statements they name, naming them, and in the log's order.
func testEraseLog(t *testing.T, s statements.Store) {
	l, other := agent("learner"), agent("other")
	own := rec(t, stmt(l, "experienced", activity("a")))
	team := rec(t, with(stmt(other, "attempted", activity("a")), "context", obj{"instructor": l}))
	mustInsert(t, s, tenantA, own, team)
	later := rec(t, stmt(other, "experienced", activity("a")))
	mustInsert(t, s, tenantB, later)
	head, err := s.LogHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	e, _ := mustErase(t, s, tenantA, l)
	sum, es := erasureEntries(t, s, 0)
	if len(es) == 0 {
		t.Fatal("no erasure entry in the log")
	}
	for _, x := range es {
		if x.Tenant != tenantA || x.Record.Position <= head || x.Record.Stored.IsZero() {
			t.Errorf("entry: tenant %q, position %d (head before %d), stored %v", x.Tenant, x.Record.Position, head, x.Record.Stored)
		}
	}
	if sum.ID != e.ID || sum.Subject != statements.ActorHash(tenantA, agentKey(t, l)) {
		t.Errorf("entry: id %q subject %q", sum.ID, sum.Subject)
	}
	wantIDs(t, sum.Erased, []string{own.ID})
	wantIDs(t, sum.Pseudonymised, []string{team.ID})
	if h, _ := s.LogHead(t.Context()); h != es[len(es)-1].Record.Position {
		t.Errorf("LogHead: got %d, want the last entry's %d", h, es[len(es)-1].Record.Position)
	}
	// Statements stored after the erasure come after its entries.
	next := rec(t, stmt(other, "experienced", activity("b")))
	mustInsert(t, s, tenantA, next)
	if next.Position <= es[len(es)-1].Record.Position {
		t.Errorf("a statement stored after the erasure has position %d, the entry %d", next.Position, es[len(es)-1].Record.Position)
	}
	rest := mustReadLog(t, s, es[len(es)-1].Record.Position, 0)
	if len(rest) != 1 || rest[0].Record.ID != next.ID {
		t.Errorf("ReadLog after the erasure: %d entries", len(rest))
	}
}

// testEraseAgain erases twice: the second finds nothing and writes no
// entry; the receipt counts both runs.
func testEraseAgain(t *testing.T, s statements.Store) {
	l := agent("learner")
	lk := agentKey(t, l)
	first := rec(t, stmt(l, "experienced", activity("a")))
	mustInsert(t, s, tenantA, first)
	// Queried before the erasure (a store may remember the terms it
	// looked up).
	wantFound(t, s, tenantA, statements.Filter{Agent: lk}, sortedIDs(first))
	wantFound(t, s, tenantA, statements.Filter{Agent: lk, Verb: verbID("experienced")}, sortedIDs(first))
	_, rc := mustErase(t, s, tenantA, l)
	wantCounts(t, rc, 1, 0)
	head, _ := s.LogHead(t.Context())
	_, rc = mustErase(t, s, tenantA, l)
	wantCounts(t, rc, 1, 0)
	if rc.Runs != 2 {
		t.Errorf("Runs: got %d, want 2", rc.Runs)
	}
	if h, _ := s.LogHead(t.Context()); h != head {
		t.Errorf("LogHead after erasing again: got %d, want %d", h, head)
	}
	// The learner's statements stored since are found, and erased by the
	// next run.
	again := rec(t, stmt(l, "experienced", activity("b")))
	mustInsert(t, s, tenantA, again)
	wantFound(t, s, tenantA, statements.Filter{Agent: lk}, sortedIDs(again))
	wantFound(t, s, tenantA, statements.Filter{Agent: lk, Verb: verbID("experienced")}, sortedIDs(again))
	_, rc = mustErase(t, s, tenantA, l)
	wantCounts(t, rc, 2, 0)
	wantAbsent(t, s, tenantA, again.ID)
}

// testEraseAttachments deletes the attachments only the erased
// statements had.
func testEraseAttachments(t *testing.T, s statements.Store) {
	l, other := agent("learner"), agent("other")
	only := mustPutAttachment(t, s, tenantA, []byte("the learner's essay"))
	shared := mustPutAttachment(t, s, tenantA, []byte("the class's worksheet"))
	mustPutAttachment(t, s, tenantB, []byte("the learner's essay"))
	att := func(sha2 string) obj {
		return obj{"usageType": "https://example.org/usage", "display": obj{"en-US": "file"},
			"contentType": "text/plain", "length": 3, "sha2": sha2}
	}
	mustInsert(t, s, tenantA,
		rec(t, with(stmt(l, "submitted", activity("a")), "attachments", []any{att(only), att(shared)})),
		rec(t, with(stmt(other, "submitted", activity("a")), "attachments", []any{att(shared)})))
	mustInsert(t, s, tenantB, rec(t, with(stmt(l, "submitted", activity("a")), "attachments", []any{att(only)})))

	_, rc := mustErase(t, s, tenantA, l)
	if rc.Attachments != 1 {
		t.Errorf("receipt: %d attachments, want 1", rc.Attachments)
	}
	_, _, err := s.Attachment(t.Context(), tenantA, only)
	wantCode(t, err, statements.ENotFound)
	if got := readAttachment(t, s, tenantA, shared); string(got) != "the class's worksheet" {
		t.Errorf("shared attachment: %q", got)
	}
	if got := readAttachment(t, s, tenantB, only); string(got) != "the learner's essay" {
		t.Errorf("the other tenant's attachment: %q", got)
	}
}

// testEraseDocuments deletes the learner's state and agent profiles.
func testEraseDocuments(t *testing.T, s statements.Store) {
	l, other := agent("learner"), agent("other")
	lk, ok := agentKey(t, l), agentKey(t, other)
	now := time.Now().UTC().Truncate(time.Millisecond)
	state := statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID("a"), Agent: lk, ID: "s"}
	profile := statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: lk, ID: "p"}
	kept := statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID("a"), Agent: ok, ID: "s"}
	for _, k := range []statements.DocumentKey{state, profile, kept} {
		mustPutDoc(t, s, tenantA, docOf(k, `{"x":1}`, "application/json", now))
	}
	mustPutDoc(t, s, tenantB, docOf(state, `{"x":1}`, "application/json", now))
	_, rc := mustErase(t, s, tenantA, l)
	if rc.Documents != 2 {
		t.Errorf("receipt: %d documents, want 2", rc.Documents)
	}
	wantNoDoc(t, s, tenantA, state)
	wantNoDoc(t, s, tenantA, profile)
	wantDocContent(t, s, tenantA, kept, `{"x":1}`)
	wantDocContent(t, s, tenantB, state, `{"x":1}`)
}

// testEraseSteps erases more statements than one step takes: every one
// goes, in several entries.
func testEraseSteps(t *testing.T, s statements.Store) {
	l, other := agent("learner"), agent("other")
	n := short(2*statements.ErasureBatch+7, statements.ErasureBatch+3)
	var all []*statements.Record
	for i := range n {
		if i%3 == 0 {
			all = append(all, rec(t, with(stmt(other, "attempted", activity("a")), "context", obj{"instructor": l})))
		} else {
			all = append(all, rec(t, stmt(l, "attempted", activity("a"))))
		}
	}
	for i := 0; i < len(all); i += 100 {
		mustInsert(t, s, tenantA, all[i:min(i+100, len(all))]...)
	}
	_, rc := mustErase(t, s, tenantA, l)
	kept := (n + 2) / 3
	wantCounts(t, rc, n-kept, kept)
	sum, es := erasureEntries(t, s, 0)
	if len(es) < 2 {
		t.Errorf("%d entries, want one per step", len(es))
	}
	if len(sum.Erased) != n-kept || len(sum.Pseudonymised) != kept {
		t.Errorf("entries name %d erased, %d pseudonymised", len(sum.Erased), len(sum.Pseudonymised))
	}
	wantFound(t, s, tenantA, statements.Filter{Agent: agentKey(t, l), RelatedAgents: true}, nil)
	if got := len(queryAll(t, s, tenantA, statements.Filter{})); got != kept {
		t.Errorf("%d statements left, want %d", got, kept)
	}
}

// testEraseConcurrentInserts erases while the learner's statements keep
// arriving: each is erased or comes after the erasure's last entry.
func testEraseConcurrentInserts(t *testing.T, s statements.Store) {
	l := agent("learner")
	for range 3 {
		mustInsert(t, s, tenantA, recs(t, stmt(l, "attempted", activity("a")), stmt(l, "attempted", activity("b")))...)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.InsertStatements(t.Context(), tenantA, recs(t, stmt(l, "attempted", activity("a")))); err != nil {
				t.Errorf("InsertStatements: %v", err)
				return
			}
		}
	}()
	mustErase(t, s, tenantA, l)
	close(stop)
	wg.Wait()
	_, es := erasureEntries(t, s, 0)
	last := es[len(es)-1].Record.Position
	for _, r := range queryAll(t, s, tenantA, statements.Filter{Agent: agentKey(t, l)}) {
		if r.Position <= last {
			t.Fatalf("statement %s at %d is not erased, and the erasure's last entry is at %d", r.ID, r.Position, last)
		}
	}
}

// testErasureKey checks that a tenant keeps its key and tenants differ.
func testErasureKey(t *testing.T, s statements.Store) {
	a1, err := s.ErasureKey(t.Context(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.ErasureKey(t.Context(), tenantA)
	b, _ := s.ErasureKey(t.Context(), tenantB)
	if len(a1) != statements.ErasureKeySize || !bytes.Equal(a1, a2) || bytes.Equal(a1, b) {
		t.Errorf("keys: %x, %x, %x", a1, a2, b)
	}
}

func testErasureErrNotFound(t *testing.T, s statements.Store) {
	_, err := s.ErasureReceipt(t.Context(), tenantA, "0123456789abcdef0123456789abcdef")
	wantCode(t, err, statements.ENotFound)
	mustErase(t, s, tenantA, agent("learner"))
	_, err = s.EraseAgent(t.Context(), tenantA, statements.Erasure{})
	wantCode(t, err, statements.EInvalid)
}
