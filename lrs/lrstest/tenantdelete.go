package lrstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// TenantDeletion proves that deleting a tenant leaves the others as they
// were. Three tenants write the randomized workload of Isolation; then
// one is deleted (lrs.Admin.DeleteTenant), and every answer the others
// get (statements by id and voided id, all pages of every query, the
// documents, activities and agents) must be byte for byte what it was,
// while the deleted tenant's credential is refused and its data is gone.
//
// newStore returns a fresh, empty store and registers its cleanup with t.
func TenantDeletion(t *testing.T, newStore func(t *testing.T) statements.Store) {
	seed := Seed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	store := newStore(t)
	w, tenants := workload(t, store, rng, "del")
	gone, kept := tenants[0], tenants[1:]
	before := map[string][]byte{}
	for _, tm := range kept {
		before[tm.id] = w.answers(t, tm)
	}

	ops := &lrs.Admin{Store: store, Admin: store}
	if err := ops.DeleteTenant(t.Context(), "test", gone.id); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	for _, tm := range kept {
		if after := w.answers(t, tm); !bytes.Equal(after, before[tm.id]) {
			t.Errorf("tenant %s answers otherwise after %s was deleted:\nbefore %s\nafter  %s", tm.id, gone.id, before[tm.id], after)
		}
	}
	if _, err := store.Credential(t.Context(), gone.key); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("the deleted tenant's credential: %v, want not found", err)
	}
	// A server that had not seen the credential refuses it.
	fresh := httptest.NewServer(lrs.New(lrs.Config{Store: store, Admin: store}))
	defer fresh.Close()
	c := &client{t: t, base: fresh.URL, key: gone.key, secret: gone.secret}
	if status, _ := c.do("GET", "/xapi/statements", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("the deleted tenant's credential: %d, want 401", status)
	}
	if p, err := store.QueryStatements(t.Context(), gone.id, statements.Filter{}); err != nil || len(p.Records) != 0 {
		t.Errorf("the deleted tenant's statements: %v", err)
	}
	if _, err := store.Tenant(t.Context(), gone.id); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("Tenant(%s) after the deletion: %v", gone.id, err)
	}
}

// requestID matches the request id of an error body, which differs
// from one request to the next.
var requestID = regexp.MustCompile(`"requestId":"[^"]*"`)

// answers returns, as bytes, every answer tm gets from the read
// resources for the world's identifiers.
func (w *world) answers(t *testing.T, tm *tenantModel) []byte {
	tm.c.t = t
	var b bytes.Buffer
	get := func(path string, q url.Values) {
		status, body := tm.c.do("GET", path, q, nil)
		fmt.Fprintf(&b, "GET %s?%s %d %s\n", path, q.Encode(), status, requestID.ReplaceAll(body, nil))
	}
	for _, id := range w.ids {
		get("/xapi/statements", url.Values{"statementId": {id}})
		get("/xapi/statements", url.Values{"voidedStatementId": {id}})
	}
	var queries []url.Values
	queries = append(queries, url.Values{})
	for _, a := range w.agents {
		queries = append(queries, url.Values{"agent": {`{"mbox":"` + a + `"}`}, "related_agents": {"true"}})
		get("/xapi/agents", url.Values{"agent": {`{"mbox":"` + a + `"}`}})
	}
	for _, a := range w.activities {
		queries = append(queries, url.Values{"activity": {a}, "related_activities": {"true"}})
		get("/xapi/activities", url.Values{"activityId": {a}})
	}
	for _, q := range queries {
		q.Set("limit", "3")
		path := "/xapi/statements"
		for range 100 {
			status, body := tm.c.do("GET", path, q, nil)
			fmt.Fprintf(&b, "GET %s?%s %d %s\n", path, q.Encode(), status, requestID.ReplaceAll(body, nil))
			var page struct{ More string }
			if json.Unmarshal(body, &page) != nil || page.More == "" {
				break
			}
			path, q = page.More, nil
		}
	}
	keys := make([]string, 0, len(tm.docs))
	for k := range tm.docs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d := tm.docs[k]
		get("/xapi/"+d.resource, d.params)
	}
	return b.Bytes()
}
