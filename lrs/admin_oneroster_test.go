package lrs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/forwarders/oneroster"
	"github.com/digione/lrs/forwarders/oneroster/onerostertest"
	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// oneRosterLRS is an LRS with the OneRoster write-back on a fresh store,
// its sink (not running: tests call DeliverDue) and a test gradebook.
type oneRosterLRS struct {
	srv   *httptest.Server
	store *sqlitestore.Store
	sink  *oneroster.Sink
	book  *onerostertest.Server
}

// mustOpenOneRosterLRS starts it, with the tenant espoo created.
func mustOpenOneRosterLRS(tb testing.TB) *oneRosterLRS {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	book := onerostertest.New("lrs-client", "s3cret")
	sink, err := oneroster.New(oneroster.Config{Store: store, Log: store, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	admin := &oneroster.Admin{Store: store, Changed: func(t string) { sink.Forget(t); sink.Notify() }}
	srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, OneRoster: admin})))
	tb.Cleanup(func() { srv.Close(); book.Close(); store.Close() })
	mustCall(tb, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	return &oneRosterLRS{srv: srv, store: store, sink: sink, book: book}
}

// configBody is a complete configuration of l's gradebook.
func (l *oneRosterLRS) configBody() string {
	return fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client","clientSecret":"s3cret"}`, l.book.BaseURL(), l.book.TokenURL())
}

// completion is a stored "passed" statement of student on lineItem in espoo.
func completion(pos int64, student, lineItem string) statements.LogEntry {
	id := fmt.Sprintf("6a1c0f4e-0000-4000-8000-%012d", pos)
	st := fmt.Sprintf(`{"id":%q,"actor":{"account":{"homePage":"https://mpass-proxy.csc.fi","name":%q}},
		"verb":{"id":%q},"object":{"id":"https://oppimateriaali.example.fi/t/1"},
		"result":{"score":{"raw":8,"min":0,"max":10}},
		"context":{"extensions":{%q:%q}},"timestamp":"2026-03-01T10:00:00Z"}`,
		id, student, oneroster.VerbPassed, oneroster.ExtLineItem, lineItem)
	return statements.LogEntry{Tenant: "espoo", Record: &statements.Record{ID: id, Statement: []byte(st), Position: pos,
		Stored: time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)}}
}

func TestAdminAPI_OneRosterConfig(t *testing.T) {
	l := mustOpenOneRosterLRS(t)
	srv := l.srv

	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, path := range []string{"/admin/tenants/espoo/oneroster", "/admin/tenants/espoo/oneroster/dead-letters"} {
			if got, _, b := call(t, srv, "GET", path, "", ""); got != http.StatusUnauthorized {
				t.Errorf("GET %s without the token: %d, want 401: %s", path, got, b)
			}
		}
		if got, _, b := call(t, srv, "PUT", "/admin/tenants/espoo/oneroster", "Bearer wrong", l.configBody()); got != http.StatusUnauthorized {
			t.Errorf("PUT with a wrong token: %d, want 401: %s", got, b)
		}
	})
	t.Run("ErrNotConfigured", func(t *testing.T) {
		b := mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster", bearer, "", http.StatusNotFound)
		if !strings.Contains(string(b), "espoo") {
			t.Errorf("404 body %s does not name the tenant", b)
		}
	})
	t.Run("ErrUnknownTenant", func(t *testing.T) {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/admin/tenants/nowhere/oneroster", ""},
			{"PUT", "/admin/tenants/nowhere/oneroster", l.configBody()},
			{"DELETE", "/admin/tenants/nowhere/oneroster", ""},
			{"GET", "/admin/tenants/nowhere/oneroster/results", ""},
			{"POST", "/admin/tenants/nowhere/oneroster/dead-letters/replay", ""},
			{"POST", "/admin/tenants/nowhere/oneroster/students", `{"students":[{"account":"a","sourcedId":"u"}]}`},
		} {
			got, _, b := call(t, srv, r.method, r.path, bearer, r.body)
			if got != http.StatusNotFound || !strings.Contains(string(b), "nowhere") {
				t.Errorf("%s %s: %d %s, want 404 naming the tenant", r.method, r.path, got, b)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"tokenUrl":"https://x.example/token","clientId":"a","clientSecret":"b"}`:                                                                    "baseUrl: required",
			`{"baseUrl":"https://x.example/v1","tokenUrl":"https://x.example/token","clientId":"a","clientSecret":"b"}`:                                   "baseUrl: must end with /ims/oneroster/gradebook/v1p2",
			`{"baseUrl":"https://x.example/ims/oneroster/gradebook/v1p2","tokenUrl":"https://x.example/token","clientId":"a"}`:                            "clientSecret: required",
			`{"baseUrl":"https://x.example/ims/oneroster/gradebook/v1p2","tokenUrl":"t","clientId":"a","clientSecret":"b"}`:                               "tokenUrl: must be an absolute",
			`{"baseUrl":"https://x.example/ims/oneroster/gradebook/v1p2","tokenUrl":"https://x.example/t","clientId":"a","clientSecret":"b","scope":"x"}`: `unknown field \"scope\"`,
		} {
			b := mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer, body, http.StatusBadRequest)
			if !strings.Contains(string(b), want) {
				t.Errorf("PUT %s: %s, want a message with %s", body, b, want)
			}
		}
	})
	t.Run("SetGetDelete", func(t *testing.T) {
		b := mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer, l.configBody(), http.StatusOK)
		if strings.Contains(string(b), "s3cret") {
			t.Fatalf("PUT echoes the secret: %s", b)
		}
		var v oneroster.ConfigView
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster", bearer, "", http.StatusOK), &v)
		if !v.ClientSecretSet || v.ClientSecret != "" || v.BaseURL != l.book.BaseURL() || v.Source != "store" || v.Updated == nil {
			t.Errorf("GET: %+v", v)
		}
		// Without clientSecret the stored one is kept.
		b = mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer,
			fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client","verbs":[%q],"disabled":true}`, l.book.BaseURL(), l.book.TokenURL(), oneroster.VerbPassed), http.StatusOK)
		json.Unmarshal(b, &v)
		if !v.ClientSecretSet || !v.Disabled || len(v.Verbs) != 1 || strings.Contains(string(b), "s3cret") {
			t.Errorf("PUT without clientSecret: %s", b)
		}
		mustCall(t, srv, "DELETE", "/admin/tenants/espoo/oneroster", bearer, "", http.StatusNoContent)
		mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster", bearer, "", http.StatusNotFound)
		// A new configuration needs its secret again.
		b = mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer,
			fmt.Sprintf(`{"baseUrl":%q,"tokenUrl":%q,"clientId":"lrs-client"}`, l.book.BaseURL(), l.book.TokenURL()), http.StatusBadRequest)
		if !strings.Contains(string(b), "clientSecret") {
			t.Errorf("PUT without a secret, none stored: %s", b)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit?limit=3", bearer, "", http.StatusOK), &es)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
			if e.Actor != "admin-api" || e.Tenant != "espoo" || strings.Contains(e.Detail, "s3cret") {
				t.Errorf("entry %+v: want actor admin-api, tenant espoo, no secret", e)
			}
		}
		if got, want := strings.Join(actions, " "), "oneroster.config.delete oneroster.config.set oneroster.config.set"; got != want {
			t.Errorf("audit: %s, want %s", got, want)
		}
		if !strings.Contains(es[2].Detail, "clientSecret=set") || !strings.Contains(es[1].Detail, "clientSecret=kept") {
			t.Errorf("audit details: %q, %q", es[2].Detail, es[1].Detail)
		}
	})
}

func TestAdminAPI_OneRosterStatic(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	static := map[string]oneroster.TenantConfig{"default": {BaseURL: "https://gb.example" + onerostertest.BasePath,
		TokenURL: "https://gb.example/token", ClientID: "c", ClientSecret: "env-secret"}}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken,
		OneRoster: &oneroster.Admin{Store: store, Static: static}})))
	defer srv.Close()
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"default"}`, http.StatusCreated)
	b := mustCall(t, srv, "GET", "/admin/tenants/default/oneroster", bearer, "", http.StatusOK)
	if strings.Contains(string(b), "env-secret") || !strings.Contains(string(b), `"source":"environment"`) {
		t.Errorf("GET of a tenant configured from the environment: %s", b)
	}
	mustCall(t, srv, "PUT", "/admin/tenants/default/oneroster", bearer, `{"baseUrl":"https://gb.example/ims/oneroster/gradebook/v1p2","tokenUrl":"https://gb.example/t","clientId":"a","clientSecret":"b"}`, http.StatusConflict)
	mustCall(t, srv, "DELETE", "/admin/tenants/default/oneroster", bearer, "", http.StatusConflict)
}

func TestAdminAPI_OneRosterUnavailable(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/tenants/espoo/oneroster"},
		{"GET", "/admin/tenants/espoo/oneroster/dead-letters"},
		{"POST", "/admin/tenants/espoo/oneroster/dead-letters/replay"},
	} {
		b := mustCall(t, srv, r.method, r.path, bearer, "", http.StatusNotFound)
		if !strings.Contains(string(b), "OneRoster write-back is not available") {
			t.Errorf("%s %s: %s, want the message that OneRoster is not available", r.method, r.path, b)
		}
	}
}

func TestAdminAPI_OneRosterMappings(t *testing.T) {
	l := mustOpenOneRosterLRS(t)
	srv := l.srv

	t.Run("Students", func(t *testing.T) {
		var body strings.Builder
		body.WriteString(`{"students":[`)
		for i := range 5 {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"account":"learner-%d","sourcedId":"user-%d"}`, i, i)
		}
		body.WriteString(`]}`)
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/students", bearer, body.String(), http.StatusOK)
		if got, want := strings.TrimSpace(string(b)), `{"written":5}`; got != want {
			t.Errorf("POST: %s, want %s", got, want)
		}
		// An empty sourcedId removes a mapping.
		mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/students", bearer, `{"students":[{"account":"learner-4","sourcedId":""}]}`, http.StatusOK)

		var all []oneroster.StudentMapping
		after := ""
		pages := 0
		for {
			var p lrs.OneRosterStudentsJSON
			json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/students?limit=2&after="+after, bearer, "", http.StatusOK), &p)
			all = append(all, p.Students...)
			pages++
			if p.More == "" {
				break
			}
			after = p.More
		}
		if len(all) != 4 || pages != 2 || all[0] != (oneroster.StudentMapping{Account: "learner-0", SourcedID: "user-0"}) || all[3].Account != "learner-3" {
			t.Errorf("students in %d pages: %+v", pages, all)
		}
	})
	t.Run("StudentsErrInvalid", func(t *testing.T) {
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/students", bearer, `{"students":[{"account":"","sourcedId":"u"}]}`, http.StatusBadRequest)
		if !strings.Contains(string(b), "students[0].account: required") {
			t.Errorf("POST without an account: %s", b)
		}
		b = mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/students", bearer, `{"students":[{"account":"a","user":"u"}]}`, http.StatusBadRequest)
		if !strings.Contains(string(b), `unknown field \"user\"`) {
			t.Errorf("POST with an unknown field: %s", b)
		}
		mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/students?limit=0", bearer, "", http.StatusBadRequest)
	})
	t.Run("Activities", func(t *testing.T) {
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/activities", bearer, `{"activities":[
			{"activityId":"https://oppimateriaali.example.fi/t/1","lineItem":"li-1","class":"c-1","scale":{"min":4,"max":10}},
			{"activityId":"https://oppimateriaali.example.fi/t/2","lineItem":"li-2"}]}`, http.StatusOK)
		if got, want := strings.TrimSpace(string(b)), `{"written":2}`; got != want {
			t.Errorf("POST: %s, want %s", got, want)
		}
		var p lrs.OneRosterActivitiesJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/activities", bearer, "", http.StatusOK), &p)
		if len(p.Activities) != 2 || p.More != "" {
			t.Fatalf("activities: %+v", p)
		}
		a := p.Activities[0]
		if a.ActivityID != "https://oppimateriaali.example.fi/t/1" || a.LineItem != "li-1" || a.Class != "c-1" || a.Scale == nil || *a.Scale != (oneroster.Scale{Min: 4, Max: 10}) {
			t.Errorf("first activity: %+v", a)
		}
		b = mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/activities", bearer, `{"activities":[{"activityId":"x","lineItem":"l","scale":{"min":10,"max":0}}]}`, http.StatusBadRequest)
		if !strings.Contains(string(b), "activities[0].scale") {
			t.Errorf("POST with a bad scale: %s", b)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit?limit=3", bearer, "", http.StatusOK), &es)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action+":"+e.Detail)
		}
		if got, want := strings.Join(actions, " "), "oneroster.activities.set:written=2 removed=0 oneroster.students.set:written=0 removed=1 oneroster.students.set:written=5 removed=0"; got != want {
			t.Errorf("audit: %s, want %s", got, want)
		}
	})
}

func TestAdminAPI_OneRosterDeadLetters(t *testing.T) {
	l := mustOpenOneRosterLRS(t)
	srv := l.srv
	ctx := t.Context()
	mustCall(t, srv, "PUT", "/admin/tenants/espoo/oneroster", bearer, l.configBody(), http.StatusOK)

	// Three results; the gradebook refuses two of them for good.
	dead1, dead2, ok := oneroster.ResultID("espoo", "li-1", "s-1"), oneroster.ResultID("espoo", "li-1", "s-2"), oneroster.ResultID("espoo", "li-1", "s-3")
	l.book.FailFor(dead1, http.StatusUnprocessableEntity)
	l.book.FailFor(dead2, http.StatusNotFound)
	if err := l.sink.Send(ctx, []statements.LogEntry{completion(1, "s-1", "li-1"), completion(2, "s-2", "li-1"), completion(3, "s-3", "li-1")}); err != nil {
		t.Fatal(err)
	}
	if err := l.sink.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	if l.book.Result(ok) == nil {
		t.Fatal("the accepted result is not in the gradebook")
	}

	var p lrs.OneRosterResultsJSON
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/dead-letters", bearer, "", http.StatusOK), &p)
	if len(p.Results) != 2 || p.More != "" {
		t.Fatalf("dead letters: %+v", p)
	}
	for _, r := range p.Results {
		if r.State != oneroster.StateDead || (r.Status != 422 && r.Status != 404) || r.Response == "" || r.Statement == "" || r.Result == nil {
			t.Errorf("dead letter: %+v", r)
		}
	}
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/results?state=sent", bearer, "", http.StatusOK), &p)
	if len(p.Results) != 1 || p.Results[0].SourcedID != ok || p.Results[0].Result.LineItem.SourcedID != "li-1" {
		t.Errorf("sent results: %+v", p)
	}
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/results?limit=2", bearer, "", http.StatusOK), &p)
	if len(p.Results) != 2 || p.More != p.Results[1].SourcedID {
		t.Errorf("first page of 2 of 3: %+v", p)
	}
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/results?limit=2&after="+p.More, bearer, "", http.StatusOK), &p)
	if len(p.Results) != 1 || p.More != "" {
		t.Errorf("second page: %+v", p)
	}
	b := mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/results?state=lost", bearer, "", http.StatusBadRequest)
	if !strings.Contains(string(b), "state:") {
		t.Errorf("bad state: %s", b)
	}

	t.Run("ReplayOne", func(t *testing.T) {
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/dead-letters/"+ok+"/replay", bearer, "", http.StatusNotFound)
		if !strings.Contains(string(b), "not a dead letter") {
			t.Errorf("replay of a sent result: %s", b)
		}
		l.book.FailFor(dead1, 0)
		b = mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/dead-letters/"+dead1+"/replay", bearer, "", http.StatusOK)
		if got, want := strings.TrimSpace(string(b)), `{"replayed":1}`; got != want {
			t.Errorf("replay: %s, want %s", got, want)
		}
		if err := l.sink.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if l.book.Result(dead1) == nil {
			t.Error("the replayed result is not in the gradebook")
		}
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/dead-letters", bearer, "", http.StatusOK), &p)
		if len(p.Results) != 1 || p.Results[0].SourcedID != dead2 {
			t.Errorf("dead letters after the replay: %+v", p)
		}
	})
	t.Run("ReplayAll", func(t *testing.T) {
		l.book.FailFor(dead2, 0)
		b := mustCall(t, srv, "POST", "/admin/tenants/espoo/oneroster/dead-letters/replay", bearer, "", http.StatusOK)
		if got, want := strings.TrimSpace(string(b)), `{"replayed":1}`; got != want {
			t.Errorf("replay: %s, want %s", got, want)
		}
		if err := l.sink.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if l.book.Results() != 3 {
			t.Errorf("gradebook results: %d, want 3", l.book.Results())
		}
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/oneroster/dead-letters", bearer, "", http.StatusOK), &p)
		if len(p.Results) != 0 || p.Results == nil {
			t.Errorf("dead letters after replaying all: %+v", p)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit?limit=2", bearer, "", http.StatusOK), &es)
		if len(es) != 2 || es[0].Action != "oneroster.replay" || es[0].Detail != "replayed=1" ||
			es[1].Action != "oneroster.replay" || es[1].Detail != "result="+dead1+" replayed=1" {
			t.Errorf("audit: %+v", es)
		}
	})
}
