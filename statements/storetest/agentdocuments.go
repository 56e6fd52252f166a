package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/statements"
)

var agentDocumentTests = []test{
	{"OK", testAgentDocumentsOK},
	{"Paging", testAgentDocumentsPaging},
	{"MaxLimit", testAgentDocumentsMaxLimit},
	{"Replaced", testAgentDocumentsReplaced},
	{"TenantIsolation", testAgentDocumentsTenantIsolation},
	{"Delete", testAgentDocumentsDelete},
	{"ErrInvalid", testAgentDocumentsErrInvalid},
}

// agentDocs puts in tenant eight documents of the agent named learner
// (two agent profiles, six states of two activities and registrations),
// the same keys of another agent and two activity profiles, in a shuffled
// order; it returns the learner's key and documents in the order of
// AgentDocuments.
func agentDocs(t *testing.T, s statements.Store, tenant, learner string) (string, []*statements.Document) {
	t.Helper()
	me, other := agentKey(t, agent(learner)), agentKey(t, agent(learner+"-other"))
	const reg1, reg2 = "0c7d5cf4-8b5c-4c1e-b1a3-3e0c0d0b8a11", "9b0f5cf4-8b5c-4c1e-b1a3-3e0c0d0b8a11"
	state := func(act, reg, id string) statements.DocumentKey {
		return statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID(act), Agent: me, Registration: reg, ID: id}
	}
	profile := func(id string) statements.DocumentKey {
		return statements.DocumentKey{Kind: statements.KindAgentProfile, Agent: me, ID: id}
	}
	keys := []statements.DocumentKey{
		profile("prefs"), profile("avatar"),
		state("a", "", "s1"), state("a", "", "s2"), state("a", reg1, "s1"), state("a", reg2, "s1"),
		state("b", reg1, "bookmark"), state("b", "", "bookmark"),
	}
	var mine []*statements.Document
	for i, k := range keys {
		d := docOf(k, fmt.Sprintf(`{"n":%d,"tenant":%q}`, i, tenant), "application/json",
			docT0.Add(time.Duration(i)*time.Second+time.Duration(i)*time.Millisecond))
		if i%3 == 0 {
			d.ContentType = "text/plain"
		}
		mine = append(mine, d)
	}
	// The others: the same keys of another agent, activity profiles (of
	// no agent, and one that names the learner as no resource does).
	var others []*statements.Document
	for _, k := range keys {
		k.Agent = other
		others = append(others, docOf(k, "other", "text/plain", docT0))
	}
	others = append(others,
		docOf(statements.DocumentKey{Kind: statements.KindActivityProfile, ActivityID: activityID("a"), ID: "p"}, "ap", "text/plain", docT0),
		docOf(statements.DocumentKey{Kind: statements.KindActivityProfile, ActivityID: activityID("a"), Agent: me, ID: "p"}, "ap", "text/plain", docT0))
	all := append(slices.Clone(mine), others...)
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(all)) {
		mustPutDoc(t, s, tenant, all[i])
	}
	slices.SortFunc(mine, func(a, b *statements.Document) int {
		switch {
		case a.Key.Less(b.Key):
			return -1
		case b.Key.Less(a.Key):
			return 1
		}
		return 0
	})
	return me, mine
}

func mustAgentDocs(t testing.TB, s statements.Store, tenant, agent string, after statements.DocumentKey, limit int) []statements.Document {
	t.Helper()
	docs, err := s.AgentDocuments(t.Context(), tenant, agent, after, limit)
	if err != nil {
		t.Fatalf("AgentDocuments(after %+v, limit %d): %v", after, limit, err)
	}
	return docs
}

// wantAgentDocs compares documents as AgentDocuments returns them.
func wantAgentDocs(t testing.TB, got []statements.Document, want []*statements.Document) {
	t.Helper()
	name := func(k statements.DocumentKey) string {
		return strings.Join([]string{k.Kind, k.ActivityID, k.Registration, k.ID}, " ")
	}
	var g, w []string
	for _, d := range got {
		g = append(g, name(d.Key))
	}
	for _, d := range want {
		w = append(w, name(d.Key))
	}
	if !slices.Equal(g, w) {
		t.Fatalf("documents: got\n\t%s\nwant\n\t%s", strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
	}
	for i, d := range got {
		wd := want[i]
		if d.Key != wd.Key || string(d.Content) != string(wd.Content) || d.ContentType != wd.ContentType ||
			d.ETag != wd.ETag || !d.Updated.Equal(wd.Updated) {
			t.Errorf("document %s: got %+v %q, want %+v %q", name(wd.Key), d, d.Content, *wd, wd.Content)
		}
	}
}

func testAgentDocumentsOK(t *testing.T, s statements.Store) {
	me, want := agentDocs(t, s, tenantA, "ad-learner")
	var order []string
	for _, d := range want {
		order = append(order, d.Key.ID)
	}
	if got, want := strings.Join(order, " "), "avatar prefs s1 s2 s1 s1 bookmark bookmark"; got != want {
		t.Fatalf("the suite expects documents %q, want %q", got, want)
	}
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), want)
	// The agent of after is ignored.
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{Agent: "someone"}, 0), want)
	// An agent of no documents has none.
	if got := mustAgentDocs(t, s, tenantA, agentKey(t, agent("ad-nobody")), statements.DocumentKey{}, 0); got == nil || len(got) != 0 {
		t.Errorf("documents of an agent that has none: got %v, want an empty list", got)
	}
}

func testAgentDocumentsPaging(t *testing.T, s statements.Store) {
	me, want := agentDocs(t, s, tenantA, "ad-learner")
	for _, limit := range []int{1, 2, 3, len(want), len(want) + 1} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var got []statements.Document
			var after statements.DocumentKey
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatalf("more than %d pages of %d", pages, limit)
				}
				page := mustAgentDocs(t, s, tenantA, me, after, limit)
				if len(page) > limit {
					t.Fatalf("a page of %d documents, limit %d", len(page), limit)
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].Key
			}
			wantAgentDocs(t, got, want)
		})
	}
	// After a key that is not stored: the documents past it.
	after := want[3].Key
	after.ID += "-"
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, after, 0), want[4:])
	after = statements.DocumentKey{Kind: statements.KindState}
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, after, 0), want[2:])
	after = statements.DocumentKey{Kind: statements.KindState + "~"}
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, after, 0), nil)
}

func testAgentDocumentsMaxLimit(t *testing.T, s statements.Store) {
	me := agentKey(t, agent("ad-learner"))
	var want []*statements.Document
	for i := range statements.MaxAgentDocuments + 1 {
		d := docOf(statements.DocumentKey{Kind: statements.KindState, ActivityID: activityID("max"), Agent: me,
			ID: fmt.Sprintf("s%03d", i)}, fmt.Sprint(i), "text/plain", docT0)
		mustPutDoc(t, s, tenantA, d)
		want = append(want, d)
	}
	for _, limit := range []int{0, -1, statements.MaxAgentDocuments + 1, 1 << 30} {
		wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, limit), want[:statements.MaxAgentDocuments])
	}
	last := want[statements.MaxAgentDocuments-1].Key
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, last, 0), want[statements.MaxAgentDocuments:])
}

// testAgentDocumentsReplaced: a document written again is listed once, as
// it is now; a deleted one is not listed.
func testAgentDocumentsReplaced(t *testing.T, s statements.Store) {
	ctx := t.Context()
	me, want := agentDocs(t, s, tenantA, "ad-learner")
	for i := range 3 {
		want[1] = docOf(want[1].Key, fmt.Sprintf("again %d", i), "text/plain", docT0.Add(time.Duration(i+1)*time.Hour))
		mustPutDoc(t, s, tenantA, want[1])
	}
	if err := s.DeleteDocument(ctx, tenantA, want[2].Key, statements.Condition{}); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	if err := s.DeleteDocuments(ctx, tenantA, statements.DocumentKey{Kind: statements.KindState,
		ActivityID: want[len(want)-1].Key.ActivityID, Agent: me}); err != nil {
		t.Fatalf("DeleteDocuments: %v", err)
	}
	want = slices.Delete(want, 2, 3)
	want = slices.DeleteFunc(want, func(d *statements.Document) bool {
		return d.Key.Kind == statements.KindState && d.Key.ActivityID == activityID("b")
	})
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), want)
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, want[0].Key, 1), want[1:2])
}

func testAgentDocumentsTenantIsolation(t *testing.T, s statements.Store) {
	me, wantA := agentDocs(t, s, tenantA, "ad-learner")
	if got := mustAgentDocs(t, s, tenantB, me, statements.DocumentKey{}, 0); len(got) != 0 {
		t.Fatalf("tenant B lists %d documents of tenant A", len(got))
	}
	n, err := s.DeleteAgentDocuments(t.Context(), tenantB, me)
	if err != nil || n != 0 {
		t.Fatalf("DeleteAgentDocuments in tenant B: %d, %v; want 0", n, err)
	}
	_, wantB := agentDocs(t, s, tenantB, "ad-learner")
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), wantA)
	wantAgentDocs(t, mustAgentDocs(t, s, tenantB, me, statements.DocumentKey{}, 0), wantB)
	if n, err := s.DeleteAgentDocuments(t.Context(), tenantB, me); err != nil || n != len(wantB) {
		t.Fatalf("DeleteAgentDocuments in tenant B: %d, %v; want %d", n, err, len(wantB))
	}
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), wantA)
}

func testAgentDocumentsDelete(t *testing.T, s statements.Store) {
	ctx := t.Context()
	me, want := agentDocs(t, s, tenantA, "ad-learner")
	other := agentKey(t, agent("ad-learner-other"))
	wantOther := mustAgentDocs(t, s, tenantA, other, statements.DocumentKey{}, 0)
	if len(wantOther) != len(want) {
		t.Fatalf("the other agent has %d documents, want %d", len(wantOther), len(want))
	}
	n, err := s.DeleteAgentDocuments(ctx, tenantA, me)
	if err != nil {
		t.Fatalf("DeleteAgentDocuments: %v", err)
	}
	if n != len(want) {
		t.Errorf("DeleteAgentDocuments deleted %d, want %d", n, len(want))
	}
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), nil)
	for _, d := range want {
		wantNoDoc(t, s, tenantA, d.Key)
	}
	// Others' documents and the activity profiles stay.
	got := mustAgentDocs(t, s, tenantA, other, statements.DocumentKey{}, 0)
	if len(got) != len(wantOther) {
		t.Errorf("the other agent has %d documents after the delete, want %d", len(got), len(wantOther))
	}
	ap := statements.DocumentKey{Kind: statements.KindActivityProfile, ActivityID: activityID("a"), ID: "p"}
	wantDocContent(t, s, tenantA, ap, "ap")
	ap.Agent = me
	wantDocContent(t, s, tenantA, ap, "ap")

	// Again: nothing to delete, no error.
	if n, err := s.DeleteAgentDocuments(ctx, tenantA, me); err != nil || n != 0 {
		t.Errorf("DeleteAgentDocuments again: %d, %v; want 0", n, err)
	}
	// A document put after the delete is listed, and deleted, again.
	mustPutDoc(t, s, tenantA, want[3])
	wantAgentDocs(t, mustAgentDocs(t, s, tenantA, me, statements.DocumentKey{}, 0), want[3:4])
	if ids := mustDocIDs(t, s, tenantA, want[3].Key, time.Time{}); !slices.Equal(ids, []string{want[3].Key.ID}) {
		t.Errorf("DocumentIDs after the put: %q, want %q", ids, want[3].Key.ID)
	}
	if n, err := s.DeleteAgentDocuments(ctx, tenantA, me); err != nil || n != 1 {
		t.Errorf("DeleteAgentDocuments after the put: %d, %v; want 1", n, err)
	}
	wantNoDoc(t, s, tenantA, want[3].Key)
}

func testAgentDocumentsErrInvalid(t *testing.T, s statements.Store) {
	_, err := s.AgentDocuments(t.Context(), tenantA, "", statements.DocumentKey{}, 0)
	wantCode(t, err, statements.EInvalid)
	_, err = s.DeleteAgentDocuments(t.Context(), tenantA, "")
	wantCode(t, err, statements.EInvalid)
}
