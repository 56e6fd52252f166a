package lrstest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"testing"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// Erasure proves that erasing a learner touches nothing else. Three
// tenants write the randomized workload of Isolation, whose learners are
// the same in every tenant; then one learner is erased in one tenant
// (lrs.Admin.EraseLearner). The other tenants' answers on every read
// resource stay byte for byte the same; in the erasing tenant each
// statement of the learner, and each voiding one, is gone (by id and by
// voided id), each other statement reads as before, a query by the
// learner finds nothing, the learner's documents are gone and the others
// read as before.
//
// newStore returns a fresh, empty store and registers its cleanup with t.
func Erasure(t *testing.T, newStore func(t *testing.T) statements.Store) {
	seed := Seed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0xbb67ae8584caa73b))
	store := newStore(t)
	w, tenants := workload(t, store, rng, "era")
	erasing, others := tenants[0], tenants[1:]
	learner := pick(rng, w.agents)
	agentJSON := `{"mbox":"` + learner + `"}`
	before := map[string][]byte{}
	for _, tm := range others {
		before[tm.id] = w.answers(t, tm)
	}
	erasing.c.t = t
	get := func(path string, q url.Values) string {
		status, body := erasing.c.do("GET", path, q, nil)
		return fmt.Sprintf("%d %s", status, requestID.ReplaceAll(body, nil))
	}
	byID := map[string]string{}
	for id := range erasing.stmts {
		byID[id] = get("/xapi/statements", url.Values{"statementId": {id}}) + get("/xapi/statements", url.Values{"voidedStatementId": {id}})
	}
	docs := map[string]string{}
	for k, d := range erasing.docs {
		docs[k] = get("/xapi/"+d.resource, d.params)
	}

	ops := &lrs.Admin{Store: store, Admin: store}
	rc, err := ops.EraseLearner(t.Context(), "test", erasing.id, []byte(agentJSON))
	if err != nil {
		t.Fatalf("EraseLearner: %v", err)
	}
	t.Logf("erased %s from %s: %+v", learner, erasing.id, rc)

	for _, tm := range others {
		if after := w.answers(t, tm); string(after) != string(before[tm.id]) {
			t.Errorf("tenant %s answers otherwise after the erasure in %s:\nbefore %s\nafter  %s", tm.id, erasing.id, before[tm.id], after)
		}
	}
	erased := 0
	for id, m := range erasing.stmts {
		got := get("/xapi/statements", url.Values{"statementId": {id}}) + get("/xapi/statements", url.Values{"voidedStatementId": {id}})
		if m.agent == learner {
			erased++
			for _, p := range []string{"statementId", "voidedStatementId"} {
				if status, _ := erasing.c.do("GET", "/xapi/statements", url.Values{p: {id}}, nil); status != http.StatusNotFound {
					t.Errorf("%s=%s of the erased learner: %d, want 404", p, id, status)
				}
			}
			continue
		}
		if got != byID[id] {
			t.Errorf("statement %s, not the learner's, reads otherwise:\nbefore %s\nafter  %s", id, byID[id], got)
		}
	}
	if erased != rc.StatementsDeleted || rc.StatementsPseudonymised != 0 {
		t.Errorf("the receipt counts %d deleted, %d pseudonymised; the learner had %d", rc.StatementsDeleted, rc.StatementsPseudonymised, erased)
	}
	for _, related := range []string{"false", "true"} {
		var page statementResult
		erasing.c.getJSON("/xapi/statements", url.Values{"agent": {agentJSON}, "related_agents": {related}}, &page)
		if len(page.Statements) != 0 {
			t.Errorf("a query by the erased learner (related_agents=%s) finds %d statements", related, len(page.Statements))
		}
	}
	for k, d := range erasing.docs {
		got := get("/xapi/"+d.resource, d.params)
		if d.params.Get("agent") == agentJSON {
			if got[:3] != "404" {
				t.Errorf("%s of the erased learner: %s", k, got)
			}
			continue
		}
		if got != docs[k] {
			t.Errorf("%s reads otherwise:\nbefore %s\nafter  %s", k, docs[k], got)
		}
	}
}
