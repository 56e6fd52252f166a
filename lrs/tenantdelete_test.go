package lrs_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// TestAdminAPI_DeleteTenant: DELETE /admin/tenants/{t} takes the tenant's
// credentials away before it answers, removes its data in the background,
// and leaves another tenant as it was.
func TestAdminAPI_DeleteTenant(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	creds := map[string]string{}
	const agent = `{"mbox":"mailto:learner@example.fi"}`
	for _, tenant := range []string{"espoo", "vantaa"} {
		mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"`+tenant+`"}`, http.StatusCreated)
		creds[tenant] = mustCreateCredential(t, srv, tenant, `{"scopes":["all"]}`)
		for range 3 {
			mustCall(t, srv, "POST", "/xapi/statements", creds[tenant], `{"actor":`+agent+`,"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://example.fi/a"}}`, http.StatusOK)
		}
		mustCall(t, srv, "POST", "/xapi/agents/profile?profileId=p&agent="+url.QueryEscape(agent), creds[tenant], `{"t":1}`, http.StatusNoContent)
	}
	statementsOf := func(tenant string) []json.RawMessage {
		var page struct{ Statements []json.RawMessage }
		json.Unmarshal(mustCall(t, srv, "GET", "/xapi/statements", creds[tenant], "", http.StatusOK), &page)
		return page.Statements
	}
	before := statementsOf("vantaa")

	mustCall(t, srv, "DELETE", "/admin/tenants/espoo", bearer, "", http.StatusAccepted)
	if status, _, _ := call(t, srv, "GET", "/xapi/statements", creds["espoo"], ""); status != http.StatusUnauthorized && status != http.StatusForbidden {
		t.Errorf("the deleted tenant's credential: %d, want 401 or 403", status)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		status, _, _ := call(t, srv, "GET", "/admin/tenants/espoo", bearer, "")
		if status == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /admin/tenants/espoo: %d, want 404 once deleted", status)
		}
	}
	after := statementsOf("vantaa")
	if len(after) != 3 || len(after) != len(before) {
		t.Fatalf("vantaa's statements: %d, then %d", len(before), len(after))
	}
	for i := range after {
		if string(after[i]) != string(before[i]) {
			t.Errorf("vantaa's statement %d changed:\n%s\n%s", i, before[i], after[i])
		}
	}
	mustCall(t, srv, "GET", "/xapi/agents/profile?profileId=p&agent="+url.QueryEscape(agent), creds["vantaa"], "", http.StatusOK)
	if p, err := store.QueryStatements(t.Context(), "espoo", statements.Filter{}); err != nil || len(p.Records) != 0 {
		t.Errorf("espoo's statements after the deletion: %v", err)
	}
	mustCall(t, srv, "DELETE", "/admin/tenants/nowhere", bearer, "", http.StatusNotFound)
	var audit []lrs.AuditJSON
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit", bearer, "", http.StatusOK), &audit)
	found := false
	for _, a := range audit {
		found = found || (a.Action == "tenant.delete" && a.Tenant == "espoo")
	}
	if !found {
		t.Errorf("no tenant.delete in the audit log")
	}
}
