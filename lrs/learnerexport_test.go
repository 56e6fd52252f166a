package lrs_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
)

// unzip returns the files of a ZIP archive by name.
func unzip(tb testing.TB, b []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("not a ZIP archive: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f.Name, err)
		}
	}
	return files
}

func TestAdminAPI_ExportLearner(t *testing.T) {
	l := mustOpenOneRosterLRS(t)
	srv := l.srv
	ctx := t.Context()
	mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer, l.configBody(), http.StatusOK)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"vantaa"}`, http.StatusCreated)
	espoo := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	vantaa := mustCreateCredential(t, srv, "vantaa", `{"scopes":["all"]}`)

	const (
		learner = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`
		other   = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"other-1"}}`
		teacher = `{"mbox":"mailto:teacher@example.fi"}`
		verb    = `{"id":"http://adlnet.gov/expapi/verbs/experienced"}`
		object  = `{"id":"https://oppimateriaali.example.fi/t/1"}`
	)
	post := func(cred, stmt string) {
		t.Helper()
		mustCall(t, srv, "POST", "/xapi/statements", cred, stmt, http.StatusOK)
	}
	stmt := func(id, actor, object, rest string) string {
		return fmt.Sprintf(`{"id":%q,"actor":%s,"verb":%s,"object":%s%s}`, id, actor, verb, object, rest)
	}

	// As actor, with an attachment.
	asActor := newUUID()
	content := []byte("the learner's essay")
	ct, body := multipartBody(t, `{"id":"`+asActor+`","actor":`+learner+`,"verb":`+verb+`,"object":`+object+
		`,"attachments":[`+att(content, "text/plain", "")+`]}`, part{content: content})
	resp, b := sendAs(t, srv, espoo, "POST", "/xapi/statements", ct, body)
	wantStatus(t, resp, b, http.StatusOK)
	asObject, asTeam, asInstructor, asMember, voided, voiding := newUUID(), newUUID(), newUUID(), newUUID(), newUUID(), newUUID()
	post(espoo, stmt(asObject, teacher, `{"objectType":"Agent",`+learner[1:], ""))
	post(espoo, stmt(asTeam, other, object, `,"context":{"team":{"objectType":"Group","member":[`+learner+`,`+other+`]}}`))
	post(espoo, stmt(asInstructor, other, object, `,"context":{"instructor":`+learner+`}`))
	post(espoo, stmt(asMember, `{"objectType":"Group","member":[`+learner+`]}`, object, ""))
	post(espoo, stmt(voided, learner, object, ""))
	post(espoo, fmt.Sprintf(`{"id":%q,"actor":%s,"verb":{"id":%q},"object":{"objectType":"StatementRef","id":%q}}`, voiding, teacher, statements.VerbVoided, voided))
	// The learner voids another's statement, which is not theirs to see.
	othersVoided, learnerVoids := newUUID(), newUUID()
	post(espoo, stmt(othersVoided, other, object, ""))
	post(espoo, fmt.Sprintf(`{"id":%q,"actor":%s,"verb":{"id":%q},"object":{"objectType":"StatementRef","id":%q}}`, learnerVoids, learner, statements.VerbVoided, othersVoided))
	// Others' data, and the learner's in another tenant.
	post(espoo, stmt(newUUID(), other, object, ""))
	post(vantaa, stmt(newUUID(), learner, object, ""))

	doc := func(cred, path, agent, body string) {
		t.Helper()
		mustCall(t, srv, "POST", path+"&agent="+url.QueryEscape(agent), cred, body, http.StatusNoContent)
	}
	doc(espoo, "/xapi/activities/state?activityId="+url.QueryEscape("https://oppimateriaali.example.fi/t/1")+"&stateId=progress", learner, `{"page":3}`)
	doc(espoo, "/xapi/agents/profile?profileId=settings", learner, `{"theme":"dark"}`)
	doc(espoo, "/xapi/agents/profile?profileId=settings", other, `{"theme":"light"}`)
	doc(vantaa, "/xapi/agents/profile?profileId=settings", learner, `{"theme":"vantaa"}`)

	// Gradebook results of the learner and of another.
	if err := l.sink.Send(ctx, []statements.LogEntry{completion(1, "learner-1", "li-1"), completion(2, "other-1", "li-1")}); err != nil {
		t.Fatal(err)
	}
	if err := l.sink.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}

	path := "/admin/tenants/espoo/learners/export?agent=" + url.QueryEscape(learner)
	t.Run("OK", func(t *testing.T) {
		status, h, b := call(t, srv, "GET", path, bearer, "")
		if status != http.StatusOK || h.Get("Content-Type") != "application/zip" {
			t.Fatalf("export: %d %s: %.300s", status, h.Get("Content-Type"), b)
		}
		files := unzip(t, b)
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		want := []string{"attachments/" + sha256Hex(content), "documents/000001", "documents/000002", "documents/documents.json",
			"manifest.json", "oneroster-results.json", "statements.json"}
		if !slices.Equal(names, want) {
			t.Fatalf("files %q, want %q", names, want)
		}

		var sts []struct {
			ID     string `json:"id"`
			Stored string `json:"stored"`
		}
		if err := json.Unmarshal(files["statements.json"], &sts); err != nil {
			t.Fatalf("statements.json: %v\n%s", err, files["statements.json"])
		}
		var ids []string
		for _, s := range sts {
			ids = append(ids, s.ID)
			if s.Stored == "" {
				t.Errorf("statement %s without stored", s.ID)
			}
		}
		if want := []string{asActor, asObject, asTeam, asInstructor, asMember, voiding, voided, learnerVoids}; !slices.Equal(ids, want) {
			t.Errorf("statements %q,\nwant %q", ids, want)
		}
		if got := string(files["attachments/"+sha256Hex(content)]); got != string(content) {
			t.Errorf("attachment %q", got)
		}

		var docs []struct {
			File, Kind, ActivityID, ID, ContentType, Updated string
		}
		if err := json.Unmarshal(files["documents/documents.json"], &docs); err != nil || len(docs) != 2 {
			t.Fatalf("documents.json: %v %s", err, files["documents/documents.json"])
		}
		if d := docs[0]; d.File != "documents/000001" || d.Kind != statements.KindAgentProfile || d.ID != "settings" ||
			d.ContentType != "application/json" || d.Updated == "" {
			t.Errorf("documents[0]: %+v", d)
		}
		if d := docs[1]; d.File != "documents/000002" || d.Kind != statements.KindState || d.ID != "progress" ||
			d.ActivityID != "https://oppimateriaali.example.fi/t/1" {
			t.Errorf("documents[1]: %+v", d)
		}
		if got, want := string(files["documents/000001"]), `{"theme":"dark"}`; got != want {
			t.Errorf("agent profile %s, want %s", got, want)
		}
		if got, want := string(files["documents/000002"]), `{"page":3}`; got != want {
			t.Errorf("state %s, want %s", got, want)
		}

		var results []oneroster.ResultView
		if err := json.Unmarshal(files["oneroster-results.json"], &results); err != nil || len(results) != 1 {
			t.Fatalf("oneroster-results.json: %v %s", err, files["oneroster-results.json"])
		}
		if r := results[0]; r.SourcedID != oneroster.ResultID("espoo", "li-1", "learner-1") || r.Result.Student.SourcedID != "learner-1" {
			t.Errorf("result %+v", r)
		}

		var m lrs.ExportManifest
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		wantCounts := lrs.ExportCounts{Statements: 7, VoidedStatements: 1, Documents: 2, Attachments: 1, OneRosterResults: 1}
		var agent bytes.Buffer
		json.Compact(&agent, m.Agent)
		if m.Tenant != "espoo" || agent.String() != learner || m.Counts != wantCounts || !m.Complete ||
			m.OneRosterStudent != "learner-1" || m.Exported.IsZero() || len(m.NotIncluded) == 0 {
			t.Errorf("manifest %s", files["manifest.json"])
		}
		for name, f := range files {
			if bytes.Contains(f, []byte("other-1")) && name != "statements.json" {
				t.Errorf("%s names the other learner: %s", name, f)
			}
			if bytes.Contains(f, []byte("vantaa")) {
				t.Errorf("%s holds the other tenant's data: %s", name, f)
			}
		}

		var audit []lrs.AuditJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit", bearer, "", http.StatusOK), &audit)
		if len(audit) == 0 || audit[0].Action != "learner.export" || audit[0].Tenant != "espoo" ||
			!strings.HasPrefix(audit[0].Detail, "agent=sha256:") || strings.Contains(audit[0].Detail, "learner-1") {
			t.Errorf("audit %+v", audit[:min(1, len(audit))])
		}
	})
	t.Run("NoResults", func(t *testing.T) {
		_, _, b := call(t, srv, "GET", "/admin/tenants/espoo/learners/export?agent="+url.QueryEscape(`{"mbox":"mailto:nobody@example.fi"}`), bearer, "")
		files := unzip(t, b)
		if got := string(files["statements.json"]); got != "[]\n" {
			t.Errorf("statements.json %q", got)
		}
		if got := string(files["oneroster-results.json"]); got != "[]\n" {
			t.Errorf("oneroster-results.json %q", got)
		}
	})
	t.Run("ManyPages", func(t *testing.T) {
		busy := `{"mbox":"mailto:busy@example.fi"}`
		var batch []string
		for range statements.MaxLimit + 1 {
			batch = append(batch, stmt(newUUID(), busy, object, ""))
		}
		post(espoo, "["+strings.Join(batch, ",")+"]")
		for i := range 5 {
			doc(espoo, fmt.Sprintf("/xapi/agents/profile?profileId=p%d", i), busy, fmt.Sprintf(`{"n":%d}`, i))
		}
		_, _, b := call(t, srv, "GET", "/admin/tenants/espoo/learners/export?agent="+url.QueryEscape(busy), bearer, "")
		files := unzip(t, b)
		var sts []struct{ ID string }
		if err := json.Unmarshal(files["statements.json"], &sts); err != nil || len(sts) != len(batch) {
			t.Fatalf("statements.json: %v, %d statements, want %d", err, len(sts), len(batch))
		}
		for i, s := range sts {
			if !strings.Contains(batch[i], s.ID) {
				t.Fatalf("statements[%d] is %s, not in the order stored", i, s.ID)
			}
		}
		for i := range 5 {
			if got, want := string(files[fmt.Sprintf("documents/%06d", i+1)]), fmt.Sprintf(`{"n":%d}`, i); got != want {
				t.Errorf("document %d: %s, want %s", i+1, got, want)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ query, names string }{
			{"", `"agent: `}, {"?agent=", `"agent: `}, {"?agent=" + url.QueryEscape(`{"name":"x"}`), `"agent: `},
			{"?agent=nojson", `"agent: `}, {"?agent=" + url.QueryEscape(`{"objectType":"Group","member":[`+learner+`]}`), `"agent: `},
			{"?agent=" + url.QueryEscape(learner) + "&x=1", `x`},
		} {
			status, _, b := call(t, srv, "GET", "/admin/tenants/espoo/learners/export"+tc.query, bearer, "")
			if status != http.StatusBadRequest || !strings.Contains(string(b), tc.names) {
				t.Errorf("%q: %d %s, want 400 naming %s", tc.query, status, b, tc.names)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		mustCall(t, srv, "GET", "/admin/tenants/nowhere/learners/export?agent="+url.QueryEscape(learner), bearer, "", http.StatusNotFound)
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		mustCall(t, srv, "GET", path, "", "", http.StatusUnauthorized)
		mustCall(t, srv, "GET", path, espoo, "", http.StatusUnauthorized)
	})
}
