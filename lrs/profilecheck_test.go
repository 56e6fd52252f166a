package lrs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/validation/profile"
	"github.com/digione/lrs/validation/profile/digione"
)

const mpass = "https://mpass-proxy.csc.fi"

// digioneStatement is a scored statement that follows the DigiOne
// profile; edit changes its JSON text before it is sent.
func digioneStatement(id string, edit func(string) string) string {
	s := `{"id":"` + id + `","actor":{"objectType":"Agent","account":{"homePage":"` + mpass + `","name":"8b2f7e1c-learner"}},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/scored"},
		"object":{"id":"https://app.example/quiz/1","definition":{"type":"http://adlnet.gov/expapi/activities/assessment"}},
		"result":{"score":{"raw":7,"min":0,"max":10}},
		"context":{"registration":"ec231277-b27b-4c15-8291-d29225b2b8f7","extensions":{
			"https://digione.fi/xapi/extensions/oneroster/lineitem":"li-1","https://digione.fi/xapi/extensions/oneroster/class":"class-7a"}},
		"timestamp":"2026-12-01T08:15:00+02:00"}`
	if edit != nil {
		s = edit(s)
	}
	return s
}

// noMax drops the score's max: the scored template's rule 8 breaks.
func noMax(s string) string { return strings.Replace(s, `,"max":10`, ``, 1) }

func TestAdmin_CredentialProfileMode(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	strict := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"],"profileMode":"strict"}`)
	plain := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	if got, _, b := call(t, srv, "POST", "/admin/tenants/espoo/credentials", bearer, `{"scopes":["all"],"profileMode":"loud"}`); got != http.StatusBadRequest ||
		!strings.Contains(string(b), `profileMode: \"loud\" is not a profile mode`) {
		t.Errorf("profileMode loud: %d %s, want 400 naming profileMode", got, b)
	}
	modes := func() map[string]string {
		var cs []lrs.CredentialJSON
		if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/credentials", bearer, "", http.StatusOK), &cs); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, c := range cs {
			m[c.Key] = c.ProfileMode
		}
		return m
	}
	strictKey, _, _ := strings.Cut(strict, ":")
	plainKey, _, _ := strings.Cut(plain, ":")
	if m := modes(); m[strictKey] != "strict" || m[plainKey] != "off" {
		t.Errorf("modes %v, want strict and off", m)
	}
	mustCall(t, srv, "PATCH", "/admin/credentials/"+plainKey, bearer, `{"profileMode":"flag"}`, http.StatusOK)
	mustCall(t, srv, "PATCH", "/admin/credentials/"+strictKey, bearer, `{"profileMode":"off"}`, http.StatusOK)
	if got, _, b := call(t, srv, "PATCH", "/admin/credentials/"+strictKey, bearer, `{"profileMode":"STRICT"}`); got != http.StatusBadRequest || !strings.Contains(string(b), "profileMode") {
		t.Errorf("PATCH profileMode STRICT: %d %s, want 400 naming profileMode", got, b)
	}
	if m := modes(); m[strictKey] != "off" || m[plainKey] != "flag" {
		t.Errorf("modes after PATCH %v, want off and flag", m)
	}
}

// TestProfile_Strict: a strict credential's statement that breaks the
// DigiOne profile fails its request with 400 naming the template and the
// rule, and its whole batch is refused.
func TestProfile_Strict(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"sandbox"}`, http.StatusCreated)
	cred := mustCreateCredential(t, srv, "sandbox", `{"scopes":["all"],"profileMode":"strict"}`)
	const good1, bad1 = "3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01", "3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d02"

	batch := "[" + digioneStatement(good1, nil) + "," + digioneStatement(bad1, noMax) + "]"
	got, _, b := call(t, srv, "POST", "/xapi/statements", cred, batch)
	if got != http.StatusBadRequest || !strings.Contains(string(b), "/1: xAPI profile: template "+digione.Template("scored")+" rule 8 ($.result.score selector $.scaled | $.max)") {
		t.Fatalf("batch with a bad statement: %d %s, want 400 naming the scored template's rule 8", got, b)
	}
	mustCall(t, srv, "GET", "/xapi/statements?statementId="+good1, cred, "", http.StatusNotFound)

	got, _, b = call(t, srv, "PUT", "/xapi/statements?statementId="+bad1, cred, digioneStatement(bad1, func(s string) string {
		return strings.Replace(s, `"objectType":"Agent","account":{"homePage":"`+mpass+`","name":"8b2f7e1c-learner"}`, `"mbox":"mailto:oppilas@koulu.example"`, 1)
	}))
	if got != http.StatusBadRequest || !strings.Contains(string(b), "rule 0 ($.actor.account.homePage): missing; must be included") ||
		!strings.Contains(string(b), "rule 2 ($.actor.mbox | $.actor.mbox_sha1sum | $.actor.openid)") {
		t.Fatalf("PUT with an mbox actor: %d %s, want 400 naming rules 0 and 2", got, b)
	}
	var body struct {
		Error   string
		Details []string
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Error != "invalid" || len(body.Details) != 3 ||
		!strings.HasPrefix(body.Details[1], "statement: xAPI profile: template "+digione.Template("scored")+" rule 1 ($.actor.account.name)") {
		t.Errorf("PUT error body %s, want the 3 broken rules in details", b)
	}

	// A statement the xAPI rules refuse is counted by its rule too.
	const bad2 = "3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d04"
	mustCall(t, srv, "POST", "/xapi/statements", cred, "["+digioneStatement(good1, nil)+","+digioneStatement(bad2, func(s string) string {
		return strings.Replace(s, `"timestamp":"2026-12-01T08:15:00+02:00"`, `"timestamp":"yesterday"`, 1)
	})+"]", http.StatusBadRequest)
	mustCall(t, srv, "POST", "/xapi/statements", cred, "["+digioneStatement(good1, nil)+"]", http.StatusOK)
	// A statement of a verb the profile has no template for is not the
	// profile's business.
	mustCall(t, srv, "POST", "/xapi/statements", cred, stmtBody("3b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d03"), http.StatusOK)

	key, _, _ := strings.Cut(cred, ":")
	var rep lrs.ReportJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/sandbox/credentials/"+key+"/report", bearer, "", http.StatusOK), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ProfileMode != "strict" || rep.Profile != digione.ID || len(rep.Days) != 1 || rep.Days[0].Accepted != 2 {
		t.Fatalf("report %+v, want one day with 2 accepted", rep)
	}
	rows := rep.Days[0].Rows
	// The batch broke rule 8 of scored; the PUT rules 0, 1 and 2; the
	// other batch an xAPI rule.
	if len(rows) != 5 || rows[0].Kind != "rejected" || rows[0].Rule != 0 || rows[3].Rule != 8 {
		t.Fatalf("report rows %+v, want rules 0, 1, 2 and 8 rejected", rows)
	}
	if x := rows[4]; !strings.HasPrefix(x.Template, "xAPI 1.0.3: /timestamp: ") || x.Count != 1 || x.Example != bad2 {
		t.Errorf("xAPI row %+v, want the timestamp rule with example %s", x, bad2)
	}
	found := false
	for _, r := range rows {
		if r.Template == digione.Template("scored") && r.Rule == 8 && r.Count == 1 && r.Example == bad1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no rejected row for the scored template's rule 8 with example %s: %+v", bad1, rows)
	}
	mustCall(t, srv, "GET", "/admin/tenants/other/credentials/"+key+"/report", bearer, "", http.StatusNotFound)
	mustCall(t, srv, "GET", "/admin/tenants/sandbox/credentials/"+key+"/report?since=yesterday", bearer, "", http.StatusBadRequest)
}

// TestProfile_Flag: a flag credential's statements are accepted whatever
// the profile says; their violations are counted by template and rule.
func TestProfile_Flag(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	cred := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"],"profileMode":"flag"}`)
	const bad1, bad2 = "9a1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01", "9a1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d02"
	mustCall(t, srv, "POST", "/xapi/statements", cred, "["+digioneStatement(bad1, noMax)+","+digioneStatement(bad2, noMax)+"]", http.StatusOK)
	mustCall(t, srv, "GET", "/xapi/statements?statementId="+bad2, cred, "", http.StatusOK)

	key, _, _ := strings.Cut(cred, ":")
	var rep lrs.ReportJSON
	if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/credentials/"+key+"/report", bearer, "", http.StatusOK), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 1 || rep.Days[0].Accepted != 2 || len(rep.Days[0].Rows) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if r := rep.Days[0].Rows[0]; r.Kind != "flagged" || r.Template != digione.Template("scored") || r.Rule != 8 || r.Count != 2 || r.Example != bad1 {
		t.Errorf("row %+v, want 2 flagged of scored rule 8, example %s", r, bad1)
	}
	metrics := string(mustCall(t, srv, "GET", "/metrics", "", "", http.StatusOK))
	want := `lrs_profile_violations_total{mode="flag",rule="8",template="` + digione.Template("scored") + `"} 2`
	if !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestProfile_TenantRule: Config.ProfileRules adds the tenant's identity
// home page rule.
func TestProfile_TenantRule(t *testing.T) {
	hp, err := digione.HomePageRule(mpass)
	if err != nil {
		t.Fatal(err)
	}
	srv := mustOpenAdminServer(t, lrs.Config{ProfileRules: func(ctx context.Context, tenant string) ([]*profile.ExtraRule, error) {
		return []*profile.ExtraRule{hp}, nil
	}})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	cred := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"],"profileMode":"strict"}`)
	mustCall(t, srv, "POST", "/xapi/statements", cred, digioneStatement("5a1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01", nil), http.StatusOK)
	got, _, b := call(t, srv, "POST", "/xapi/statements", cred, digioneStatement("5a1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d02", func(s string) string {
		return strings.Replace(s, mpass, "https://idp.elsewhere.example", 1)
	}))
	if got != http.StatusBadRequest || !strings.Contains(string(b), "template "+digione.HomePageRuleName+" rule 0 ($.actor.account.homePage)") {
		t.Fatalf("other home page: %d %s, want 400 naming the tenant home page rule", got, b)
	}
}

// TestProfile_ReportStored: the report's counts reach the store, on
// FlushReports and every 10 s while statements arrive, and the report
// adds those not yet flushed to the stored ones, counting each once.
func TestProfile_ReportStored(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC).UnixNano())
	s := lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	srv := httptest.NewServer(withContract(t, s))
	t.Cleanup(func() { srv.Close(); store.Close() })
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	cred := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"],"profileMode":"flag"}`)
	key, _, _ := strings.Cut(cred, ":")
	const id1, id2, id3 = "6b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d01", "6b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d02", "6b1f3a2e-0d54-4c43-9a3e-7f0b3c1e2d03"
	mustCall(t, srv, "POST", "/xapi/statements", cred, "["+digioneStatement(id1, noMax)+","+digioneStatement(id2, nil)+"]", http.StatusOK)
	if err := s.FlushReports(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows, err := store.Report(t.Context(), "espoo", key, "")
	if err != nil || len(rows) != 2 || rows[0].Kind != "accepted" || rows[0].Count != 2 || rows[1].Example != id1 {
		t.Fatalf("stored report %+v, %v", rows, err)
	}
	report := func() lrs.ReportJSON {
		t.Helper()
		var rep lrs.ReportJSON
		if err := json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/credentials/"+key+"/report?since=2026-12-01", bearer, "", http.StatusOK), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := report(); len(rep.Days) != 1 || rep.Days[0].Accepted != 2 || rep.Days[0].Rows[0].Count != 1 {
		t.Fatalf("report after flush %+v", rep)
	}
	// 11 s later the next statement's request flushes in the background.
	now.Add(int64(11 * time.Second))
	mustCall(t, srv, "POST", "/xapi/statements", cred, digioneStatement(id3, noMax), http.StatusOK)
	if rep := report(); rep.Days[0].Accepted != 3 || rep.Days[0].Rows[0].Count != 2 || rep.Days[0].Rows[0].Example != id1 {
		t.Fatalf("report with one statement more %+v", rep)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, err = store.Report(t.Context(), "espoo", key, "")
		if err == nil && len(rows) == 2 && rows[0].Count == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored report not flushed in the background: %+v, %v", rows, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rep := report(); rep.Days[0].Accepted != 3 || rep.Days[0].Rows[0].Count != 2 {
		t.Fatalf("report after the background flush %+v", rep)
	}
}
