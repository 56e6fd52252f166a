package lrs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/validation/profile/digione"
)

// TestSandbox_Lifecycle: a sandbox created over the admin API has a
// strict credential and a test school; a good statement makes a result
// in the sandbox gradebook, a bad one is refused naming the template and
// the rule; the report shows both and the mapping's dry run; a reset
// empties the gradebook and keeps the credential and the roster; a
// delete removes the sandbox.
func TestSandbox_Lifecycle(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	if got, _, b := call(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"Acme Oy"}`); got != http.StatusBadRequest || !strings.Contains(string(b), "vendor") {
		t.Errorf("POST a bad vendor: %d %s, want 400 naming vendor", got, b)
	}
	if got, _, b := call(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"acme","xapiVersion":"3.0"}`); got != http.StatusBadRequest || !strings.Contains(string(b), "xapiVersion") {
		t.Errorf("POST a bad xapiVersion: %d %s, want 400 naming xapiVersion", got, b)
	}
	var sb lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"acme","xapiVersion":"2.0.0"}`, http.StatusCreated), &sb); err != nil {
		t.Fatal(err)
	}
	mustCall(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"acme"}`, http.StatusConflict)
	if got, _, b := call(t, srv, "POST", "/admin/tenants", bearer, `{"id":"sandbox-other"}`); got != http.StatusBadRequest || !strings.Contains(string(b), "sandbox-") {
		t.Errorf("POST a tenant named as a sandbox: %d %s, want 400", got, b)
	}
	if sb.Tenant != "sandbox-acme" || len(sb.Credentials) != 1 || sb.Credentials[0].Secret == "" ||
		sb.Credentials[0].ProfileMode != "strict" || sb.Credentials[0].XAPIVersion != "2.0.0" || sb.Endpoint != srv.URL+"/xapi/" {
		t.Fatalf("sandbox %+v, want tenant sandbox-acme, one strict 2.0.0 credential with its secret, endpoint %s/xapi/", sb, srv.URL)
	}
	if d := sb.Expires.Sub(sb.Created); d != lrs.DefaultSandboxTTL {
		t.Errorf("expires %v after creation, want %v", d, lrs.DefaultSandboxTTL)
	}
	school := sb.School
	if len(school.Classes) != 2 || len(school.Teachers) != 2 || len(school.Learners) != 6 || len(school.LineItems) == 0 {
		t.Fatalf("school %+v, want 2 classes, 2 teachers, 6 learners, line items", school)
	}
	for _, l := range school.Learners {
		if !strings.HasPrefix(l.LearnerNumber, "1.2.246.562.98.") || l.Account.HomePage != sb.IdentityHomePage || l.Account.Name == "" {
			t.Errorf("learner %+v: want a test learner number and an account on %s", l, sb.IdentityHomePage)
		}
	}
	cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
	learner, li := school.Learners[0], school.LineItems[0]

	// The gradebook is empty; a good statement writes a result to it.
	var res lrs.SandboxResultsJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme/results", bearer, "", http.StatusOK), &res); err != nil || len(res.Results) != 0 {
		t.Fatalf("results of a new sandbox: %+v, %v; want none", res, err)
	}
	const good, bad, stranger, noItem = "5c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f01", "5c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f02",
		"5c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f03", "5c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f04"
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(good, learner, li, 7, nil), http.StatusOK)
	got, _, b := call(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(bad, learner, li, 7, func(s string) string {
		return strings.Replace(s, `,"max":10`, ``, 1)
	}))
	if got != http.StatusBadRequest || !strings.Contains(string(b), "template "+digione.Template("scored")+" rule 8 ($.result.score selector $.scaled | $.max)") {
		t.Fatalf("a statement without score.max: %d %s, want 400 naming the scored template's rule 8", got, b)
	}
	// An actor who is no learner of the school, and a line item the
	// gradebook lacks: accepted by the profile, no result, each with why.
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(stranger, learner, li, 5, func(s string) string {
		return strings.Replace(s, learner.Account.Name, "MPASSOID.someone-else", 1)
	}), http.StatusOK)
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(noItem, learner, li, 5, func(s string) string {
		return strings.Replace(s, `"https://digione.fi/xapi/extensions/oneroster/lineitem":"`+li.SourcedID, `"https://digione.fi/xapi/extensions/oneroster/lineitem":"no-such-item`, 1)
	}), http.StatusOK)

	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme/results", bearer, "", http.StatusOK), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 {
		t.Fatalf("results: %+v, want one", res.Results)
	}
	if r := res.Results[0]; r.Student.SourcedID != learner.SourcedID || r.LineItem.SourcedID != li.SourcedID || r.Score == nil || *r.Score != 7 ||
		r.ScoreStatus != "fully graded" || r.Metadata["xapiStatementId"] != good || !strings.HasPrefix(r.LineItem.Href, lrs.SandboxBaseURL) {
		t.Errorf("result %+v, want learner %s on %s scored 7 from %s", r, learner.SourcedID, li.SourcedID, good)
	}

	var rep lrs.SandboxReportJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme/report?since=2020-01-01", bearer, "", http.StatusOK), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Credentials) != 1 || len(rep.Credentials[0].Days) != 1 || rep.Credentials[0].Days[0].Accepted != 3 {
		t.Fatalf("credential report %+v, want one day with 3 accepted", rep.Credentials)
	}
	rows := rep.Credentials[0].Days[0].Rows
	if len(rows) != 1 || rows[0].Kind != "rejected" || rows[0].Rule != 8 || rows[0].Example != bad {
		t.Errorf("report rows %+v, want the rejection by rule 8 with example %s", rows, bad)
	}
	if len(rep.Gradebook) != 1 || rep.Gradebook[0].Results != 1 || len(rep.Gradebook[0].ResultExamples) != 1 || len(rep.Gradebook[0].NoResult) != 2 {
		t.Fatalf("gradebook dry run %+v, want a day with 1 result and 2 reasons of none", rep.Gradebook)
	}
	reasons := map[string]string{}
	for _, n := range rep.Gradebook[0].NoResult {
		reasons[n.Example.Statement] = n.Reason
	}
	if !strings.HasPrefix(reasons[stranger], "unknown student") || !strings.HasPrefix(reasons[noItem], "unknown line item") {
		t.Errorf("reasons %v, want unknown student for %s, unknown line item for %s", reasons, stranger, noItem)
	}
	if len(rep.Results) != 1 {
		t.Errorf("report results %+v, want one", rep.Results)
	}

	// GET and list show the sandbox without secrets.
	var one lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme", bearer, "", http.StatusOK), &one); err != nil ||
		len(one.Credentials) != 1 || one.Credentials[0].Secret != "" || one.School.Learners[0].Account != learner.Account {
		t.Errorf("GET sandbox: %+v, %v", one, err)
	}
	var all []lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes", bearer, "", http.StatusOK), &all); err != nil || len(all) != 1 || all[0].Vendor != "acme" {
		t.Errorf("GET sandboxes: %+v, %v", all, err)
	}
	mustCall(t, srv, "GET", "/admin/sandboxes/nobody", bearer, "", http.StatusNotFound)

	// Reset: statements and results go, the credential and roster stay.
	mustCall(t, srv, "POST", "/admin/sandboxes/acme/reset", bearer, "", http.StatusOK)
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme/results", bearer, "", http.StatusOK), &res); err != nil || len(res.Results) != 0 || res.Statements != 0 {
		t.Errorf("results after reset: %+v, %v; want none", res, err)
	}
	mustCall(t, srv, "GET", "/xapi/statements?statementId="+good, cred, "", http.StatusNotFound)
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(good, learner, li, 9, nil), http.StatusOK)
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/sandboxes/acme/results", bearer, "", http.StatusOK), &res); err != nil || len(res.Results) != 1 || *res.Results[0].Score != 9 {
		t.Errorf("results after reset and a new statement: %+v, %v; want one scored 9", res, err)
	}

	mustCall(t, srv, "DELETE", "/admin/sandboxes/acme", bearer, "", http.StatusNoContent)
	mustCall(t, srv, "GET", "/admin/sandboxes/acme", bearer, "", http.StatusNotFound)
	mustCall(t, srv, "GET", "/admin/tenants/sandbox-acme", bearer, "", http.StatusNotFound)
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(noItem, learner, li, 9, nil), http.StatusUnauthorized)
}

// TestSandbox_Expiry: the sweep deletes the sandboxes whose time is up,
// and only those; a real tenant is never swept.
func TestSandbox_Expiry(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a := &lrs.Admin{Store: store, Admin: store, Now: func() time.Time { return now }}
	if _, err := a.CreateTenant(t.Context(), "test", lrs.NewTenant{ID: "espoo"}); err != nil {
		t.Fatal(err)
	}
	for vendor, ttl := range map[string]time.Duration{"short": time.Hour, "long": 48 * time.Hour} {
		if _, err := a.CreateSandbox(t.Context(), "test", lrs.NewSandbox{Vendor: vendor, TTL: ttl}); err != nil {
			t.Fatal(err)
		}
	}
	sweep := &lrs.SandboxSweep{Admin: a, Now: func() time.Time { return now.Add(59 * time.Minute) }}
	if gone := sweep.Sweep(t.Context()); len(gone) != 0 {
		t.Errorf("swept %v before any expired", gone)
	}
	sweep.Now = func() time.Time { return now.Add(time.Hour) }
	if gone := sweep.Sweep(t.Context()); len(gone) != 1 || gone[0] != "short" {
		t.Errorf("swept %v at one hour, want [short]", gone)
	}
	ts, err := store.Tenants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tn := range ts {
		ids = append(ids, tn.ID)
	}
	if strings.Join(ids, ",") != "espoo,sandbox-long" {
		t.Errorf("tenants after the sweep: %v, want espoo,sandbox-long", ids)
	}

	// Of two processes, the one without the lease does not sweep.
	sweep.Now = func() time.Time { return now.Add(49 * time.Hour) }
	sweep.Holder, sweep.Interval = "me", 20*time.Millisecond
	if ok, err := store.AcquireLease(t.Context(), "sandbox-expiry", "other", time.Hour); !ok || err != nil {
		t.Fatalf("lease for another process: %t %v", ok, err)
	}
	run := func() {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		sweep.Run(ctx)
	}
	run()
	if _, err := store.Tenant(t.Context(), "sandbox-long"); err != nil {
		t.Errorf("the sweep without the lease deleted sandbox-long: %v", err)
	}
	if err := store.ReleaseLease(t.Context(), "sandbox-expiry", "other"); err != nil {
		t.Fatal(err)
	}
	run()
	if _, err := store.Tenant(t.Context(), "sandbox-long"); statements.ErrorCode(err) != statements.ENotFound {
		t.Errorf("sandbox-long after the sweep with the lease: %v, want it gone", err)
	}
}
