package lrs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// waitErasure polls the status resource at path until it is completed.
func waitErasure(t *testing.T, srv *httptest.Server, path string) lrs.ErasureJSON {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var rc lrs.ErasureJSON
		if err := json.Unmarshal(mustCall(t, srv, "GET", path, bearer, "", http.StatusOK), &rc); err != nil {
			t.Fatal(err)
		}
		if rc.Status == statements.ErasureCompleted {
			return rc
		}
	}
	t.Fatalf("the erasure at %s did not complete", path)
	return lrs.ErasureJSON{}
}

// startErasure posts an erasure of agent and returns its status path.
func startErasure(t *testing.T, srv *httptest.Server, tenant, agent string) string {
	t.Helper()
	status, h, b := call(t, srv, "POST", "/admin/tenants/"+tenant+"/erasures", bearer, `{"agent":`+agent+`}`)
	if status != http.StatusAccepted || !strings.HasPrefix(h.Get("Location"), "/admin/tenants/"+tenant+"/erasures/") {
		t.Fatalf("POST erasure: %d, Location %q: %s", status, h.Get("Location"), b)
	}
	var rc lrs.ErasureJSON
	if err := json.Unmarshal(b, &rc); err != nil || rc.ID == "" || !strings.HasSuffix(h.Get("Location"), "/"+rc.ID) {
		t.Fatalf("POST erasure: %v %s", err, b)
	}
	return h.Get("Location")
}

// TestAdminAPI_Erasure posts a learner's statements in every role, a
// teacher's and another learner's, documents and attachments, erases the
// learner through the admin API, and reads every path back: nothing of
// the learner is left, and what others did stays.
func TestAdminAPI_Erasure(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"vantaa"}`, http.StatusCreated)
	espoo := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	vantaa := mustCreateCredential(t, srv, "vantaa", `{"scopes":["all"]}`)

	const (
		learner = `{"name":"Liisa Oppilas","account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`
		other   = `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"other-1"}}`
		teacher = `{"name":"Tuula Opettaja","mbox":"mailto:teacher@example.fi"}`
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
	postAtt := func(id, actor string, content ...[]byte) {
		t.Helper()
		var atts []string
		var parts []part
		for _, c := range content {
			atts = append(atts, att(c, "text/plain", ""))
			parts = append(parts, part{content: c})
		}
		ct, body := multipartBody(t, `{"id":"`+id+`","actor":`+actor+`,"verb":`+verb+`,"object":`+object+
			`,"attachments":[`+strings.Join(atts, ",")+`]}`, parts...)
		resp, b := sendAs(t, srv, espoo, "POST", "/xapi/statements", ct, body)
		wantStatus(t, resp, b, http.StatusOK)
	}

	essay, worksheet := []byte("the learner's essay"), []byte("the class's worksheet")
	asActor, othersWork := newUUID(), newUUID()
	postAtt(asActor, learner, essay, worksheet)
	postAtt(othersWork, other, worksheet)
	asObject, asTeam, asInstructor, asMember, voided, voiding := newUUID(), newUUID(), newUUID(), newUUID(), newUUID(), newUUID()
	post(espoo, stmt(asObject, teacher, `{"objectType":"Agent",`+learner[1:], ""))
	post(espoo, stmt(asTeam, other, object, `,"context":{"team":{"objectType":"Group","member":[`+learner+`,`+other+`]}}`))
	post(espoo, stmt(asInstructor, other, object, `,"context":{"instructor":`+learner+`}`))
	post(espoo, stmt(asMember, `{"objectType":"Group","member":[`+learner+`]}`, object, ""))
	post(espoo, stmt(voided, learner, object, ""))
	post(espoo, fmt.Sprintf(`{"id":%q,"actor":%s,"verb":{"id":%q},"object":{"objectType":"StatementRef","id":%q}}`, voiding, teacher, statements.VerbVoided, voided))
	taught, teachers := newUUID(), newUUID()
	post(espoo, stmt(taught, other, object, `,"context":{"instructor":`+teacher+`}`))
	post(espoo, stmt(teachers, teacher, object, ""))
	elsewhere := newUUID()
	post(vantaa, stmt(elsewhere, learner, object, ""))

	state := "/xapi/activities/state?activityId=" + url.QueryEscape("https://oppimateriaali.example.fi/t/1") + "&stateId=progress&agent=" + url.QueryEscape(learner)
	profile := "/xapi/agents/profile?profileId=settings&agent=" + url.QueryEscape(learner)
	mustCall(t, srv, "POST", state, espoo, `{"page":3}`, http.StatusNoContent)
	mustCall(t, srv, "POST", profile, espoo, `{"theme":"dark"}`, http.StatusNoContent)
	mustCall(t, srv, "POST", profile, vantaa, `{"theme":"vantaa"}`, http.StatusNoContent)
	if b := mustCall(t, srv, "GET", "/xapi/agents?agent="+url.QueryEscape(learner), espoo, "", http.StatusOK); !strings.Contains(string(b), "Liisa") {
		t.Fatalf("agents before the erasure: %s", b)
	}
	head, _ := store.LogHead(t.Context())

	path := startErasure(t, srv, "espoo", learner)
	rc := waitErasure(t, srv, path)
	if rc.StatementsDeleted != 5 || rc.StatementsPseudonymised != 2 || rc.Documents != 2 || rc.Attachments != 1 ||
		rc.RequestedBy != "admin-api" || rc.Runs != 1 || rc.Requested.IsZero() || rc.Completed.IsZero() {
		t.Errorf("receipt %+v", rc)
	}
	if b := mustCall(t, srv, "GET", path, bearer, "", http.StatusOK); strings.Contains(string(b), "learner-1") {
		t.Errorf("the receipt names the learner: %s", b)
	}

	t.Run("StatementsByID", func(t *testing.T) {
		for _, id := range []string{asActor, asObject, asMember, voided, voiding} {
			for _, p := range []string{"statementId", "voidedStatementId"} {
				mustCall(t, srv, "GET", "/xapi/statements?"+p+"="+id, espoo, "", http.StatusNotFound)
			}
		}
		for _, format := range []string{"exact", "ids", "canonical"} {
			for _, id := range []string{asTeam, asInstructor} {
				b := mustCall(t, srv, "GET", "/xapi/statements?format="+format+"&statementId="+id, espoo, "", http.StatusOK)
				if strings.Contains(string(b), "learner-1") || strings.Contains(string(b), "Liisa") || !strings.Contains(string(b), statements.ErasedHomePage) {
					t.Errorf("%s, format %s: %s", id, format, b)
				}
			}
		}
		b := mustCall(t, srv, "GET", "/xapi/statements?statementId="+asTeam, espoo, "", http.StatusOK)
		if !strings.Contains(string(b), "other-1") {
			t.Errorf("the team's other member is gone: %s", b)
		}
	})

	t.Run("Queries", func(t *testing.T) {
		for _, format := range []string{"exact", "ids", "canonical"} {
			for _, q := range []string{"agent=" + url.QueryEscape(learner), "agent=" + url.QueryEscape(learner) + "&related_agents=true"} {
				var page struct{ Statements []json.RawMessage }
				json.Unmarshal(mustCall(t, srv, "GET", "/xapi/statements?format="+format+"&"+q, espoo, "", http.StatusOK), &page)
				if len(page.Statements) != 0 {
					t.Errorf("%s, format %s: %d statements", q, format, len(page.Statements))
				}
			}
			// Every page of everything, in every format.
			next, ids := "/xapi/statements?limit=2&format="+format, 0
			for next != "" {
				b := mustCall(t, srv, "GET", next, espoo, "", http.StatusOK)
				if strings.Contains(string(b), "learner-1") || strings.Contains(string(b), "Liisa") {
					t.Errorf("%s names the learner: %s", next, b)
				}
				var page struct {
					Statements []json.RawMessage
					More       string
				}
				json.Unmarshal(b, &page)
				ids += len(page.Statements)
				next = page.More
			}
			if ids != 5 { // asTeam, asInstructor, othersWork, taught, teachers
				t.Errorf("format %s: %d statements on all pages, want 5", format, ids)
			}
		}
		b := mustCall(t, srv, "GET", "/xapi/statements?agent="+url.QueryEscape(learner), vantaa, "", http.StatusOK)
		if !strings.Contains(string(b), elsewhere) {
			t.Errorf("the other tenant's statement of the learner is gone: %s", b)
		}
	})

	t.Run("AttachmentsDocumentsAgents", func(t *testing.T) {
		if _, _, err := store.Attachment(t.Context(), "espoo", sha256Hex(essay)); statements.ErrorCode(err) != statements.ENotFound {
			t.Errorf("the learner's attachment: %v, want not found", err)
		}
		resp, b := sendAs(t, srv, espoo, "GET", "/xapi/statements?attachments=true&statementId="+othersWork, "", nil)
		wantStatus(t, resp, b, http.StatusOK)
		if !strings.Contains(string(b), string(worksheet)) {
			t.Errorf("the shared attachment is gone")
		}
		mustCall(t, srv, "GET", state, espoo, "", http.StatusNotFound)
		mustCall(t, srv, "GET", profile, espoo, "", http.StatusNotFound)
		mustCall(t, srv, "GET", profile, vantaa, "", http.StatusOK)
		if b := mustCall(t, srv, "GET", "/xapi/agents?agent="+url.QueryEscape(`{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"learner-1"}}`), espoo, "", http.StatusOK); strings.Contains(string(b), "Liisa") {
			t.Errorf("agents after the erasure: %s", b)
		}
	})

	t.Run("Log", func(t *testing.T) {
		es, err := store.ReadLog(t.Context(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		erasures := 0
		for _, e := range es {
			if e.Erasure != nil {
				erasures++
				if e.Record.Position <= head {
					t.Errorf("erasure entry at %d, before the log's head %d", e.Record.Position, head)
				}
				continue
			}
			if e.Tenant == "espoo" && strings.Contains(string(e.Record.Statement), "learner-1") {
				t.Errorf("the log still holds %s: %s", e.Record.ID, e.Record.Statement)
			}
		}
		if erasures != 1 {
			t.Errorf("%d erasure entries, want 1", erasures)
		}
	})

	t.Run("Again", func(t *testing.T) {
		if again := startErasure(t, srv, "espoo", learner); again != path {
			t.Errorf("the same learner again: %s, want %s", again, path)
		}
		rc := waitErasure(t, srv, path)
		if rc.Runs != 2 || rc.StatementsDeleted != 5 {
			t.Errorf("receipt after a second run: %+v", rc)
		}
	})

	t.Run("Teacher", func(t *testing.T) {
		rc := waitErasure(t, srv, startErasure(t, srv, "espoo", teacher))
		if rc.StatementsDeleted != 1 || rc.StatementsPseudonymised != 1 {
			t.Errorf("receipt %+v", rc)
		}
		mustCall(t, srv, "GET", "/xapi/statements?statementId="+teachers, espoo, "", http.StatusNotFound)
		b := mustCall(t, srv, "GET", "/xapi/statements?format=exact&statementId="+taught, espoo, "", http.StatusOK)
		if strings.Contains(string(b), "teacher@") || !strings.Contains(string(b), "other-1") || !strings.Contains(string(b), statements.ErasedHomePage) {
			t.Errorf("the student's statement after the teacher's erasure: %s", b)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, c := range []struct {
			path, body string
			status     int
			want       string
		}{
			{"/admin/tenants/espoo/erasures", `{}`, http.StatusBadRequest, "agent"},
			{"/admin/tenants/espoo/erasures", `{"agent":{"name":"x"}}`, http.StatusBadRequest, "agent"},
			{"/admin/tenants/espoo/erasures", `{"agent":{"objectType":"Group","mbox":"mailto:g@example.fi"}}`, http.StatusBadRequest, "agent"},
			{"/admin/tenants/espoo/erasures", `{"agent":` + learner + `,"also":1}`, http.StatusBadRequest, "also"},
			{"/admin/tenants/nowhere/erasures", `{"agent":` + learner + `}`, http.StatusNotFound, "nowhere"},
		} {
			status, _, b := call(t, srv, "POST", c.path, bearer, c.body)
			if status != c.status || !strings.Contains(string(b), c.want) {
				t.Errorf("POST %s %s: %d %s; want %d naming %s", c.path, c.body, status, b, c.status, c.want)
			}
		}
		mustCall(t, srv, "GET", "/admin/tenants/espoo/erasures/0123456789abcdef0123456789abcdef", bearer, "", http.StatusNotFound)
		mustCall(t, srv, "POST", "/admin/tenants/espoo/erasures", "", `{"agent":`+learner+`}`, http.StatusUnauthorized)
	})
}

// TestServer_PeopleAPIErasure: after a learner's erasure the people API
// shows a teacher none of their statements, and the learner none of
// their own; a classmate's stay.
func TestServer_PeopleAPIErasure(t *testing.T) {
	base, store, op := peopleServer(t)
	teacher := personToken(t, op, "k1", "2")
	learner := personToken(t, op, "u1", "1")
	postAs(t, base, "u1", "completed", "https://app.test/fractions-1", 0.9)
	postAs(t, base, "u1", "passed", "https://app.test/fractions-2", 0.7)
	kept := postAs(t, base, "u2", "failed", "https://app.test/fractions-1", 0.2)
	if ids := walkIDs(t, base, "/api/classes/7A/students/u1/statements", teacher); len(ids) != 2 {
		t.Fatalf("u1's statements before the erasure: %v", ids)
	}

	ops := &lrs.Admin{Store: store, Admin: store}
	rc, err := ops.EraseLearner(t.Context(), "cli", lrs.DefaultTenant, []byte(`{"account":{"homePage":"`+mpassHome+`","name":"u1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if rc.StatementsDeleted != 2 || rc.RequestedBy != "cli" || rc.Status != statements.ErasureCompleted {
		t.Errorf("receipt %+v", rc)
	}
	if ids := walkIDs(t, base, "/api/classes/7A/students/u1/statements", teacher); len(ids) != 0 {
		t.Errorf("u1's statements after the erasure: %v", ids)
	}
	if ids := walkIDs(t, base, "/api/me/statements", learner); len(ids) != 0 {
		t.Errorf("u1's own statements after the erasure: %v", ids)
	}
	if ids := walkIDs(t, base, "/api/classes/7A/students/u2/statements", teacher); len(ids) != 1 || ids[0] != kept {
		t.Errorf("u2's statements: %v, want %s", ids, kept)
	}
}
