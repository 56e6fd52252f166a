package lrs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

const (
	writerKey    = "writer-key"
	writerSecret = "writer-secret"
)

// MustOpenServerWithWriter starts an LRS whose tenant has, besides the
// test credential (scope all), a credential of scopes statements/write and
// statements/read/mine only: not authoritative for activity definitions.
func MustOpenServerWithWriter(tb testing.TB) *httptest.Server {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	boot, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	hash, err := lrs.HashSecret(writerSecret)
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.CreateCredential(ctx, statements.Credential{Key: writerKey, Tenant: boot.Tenant, SecretHash: hash,
		Scopes: []string{"statements/write", "statements/read/mine"}, Authority: lrs.Authority(writerKey, "writer"), Created: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: store})))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

func writer(version string) map[string]string {
	return map[string]string{"X-Experience-API-Version": version, "auth": writerKey + ":" + writerSecret}
}

// activityJSON returns GET /xapi/activities?activityId=id decoded.
func activityJSON(t *testing.T, srv *httptest.Server, id string) map[string]any {
	t.Helper()
	resp, b := send(t, srv, "GET", "/xapi/activities?activityId="+url.QueryEscape(id), "", nil)
	wantStatus(t, resp, b, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("activity: %s: %v", b, err)
	}
	return got
}

func wantActivity(t *testing.T, srv *httptest.Server, id, wantDef string) {
	t.Helper()
	got := activityJSON(t, srv, id)
	want := map[string]any{"objectType": "Activity", "id": id}
	if wantDef != "" {
		var d any
		if err := json.Unmarshal([]byte(wantDef), &d); err != nil {
			t.Fatal(err)
		}
		want["definition"] = d
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("activity %s:\n got %s\nwant %s", id, g, w)
	}
}

func TestActivities(t *testing.T) {
	srv := MustOpenServerWithWriter(t)
	const (
		course = "http://example.fi/activities/course"
		parent = "http://example.fi/activities/module"
		sub    = "http://example.fi/activities/sub"
	)
	stmt := func(id, object, context string) string {
		s := `{"id":"` + id + `","actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":` + object
		if context != "" {
			s += `,"context":` + context
		}
		return s + "}"
	}
	scenarios := []scenario{
		{name: "unknown activity", method: "GET", path: "/xapi/activities?activityId=" + url.QueryEscape("http://example.fi/none"),
			wantStatus: 200, wantBody: []string{`{"objectType":"Activity","id":"http://example.fi/none"}`}},
		{name: "missing activityId", method: "GET", path: "/xapi/activities", wantStatus: 400, wantBody: []string{"activityId: required"}},
		{name: "activityId not an IRI", method: "GET", path: "/xapi/activities?activityId=course", wantStatus: 400, wantBody: []string{"activityId: must be an IRI"}},
		{name: "unknown parameter", method: "GET", path: "/xapi/activities?activityId=http://example.fi/a&agent=x", wantStatus: 400, wantBody: []string{"agent: unknown parameter"}},
		{name: "head", method: "HEAD", path: "/xapi/activities?activityId=http://example.fi/a", wantStatus: 200},
		{name: "needs a version", method: "GET", path: "/xapi/activities?activityId=http://example.fi/a", headers: map[string]string{"auth": testKey + ":" + testSecret}, wantStatus: 400},
		{name: "needs a credential", method: "GET", path: "/xapi/activities?activityId=http://example.fi/a", headers: map[string]string{"X-Experience-API-Version": "2.0.0"}, wantStatus: 401},
		{name: "writer defines", method: "POST", path: "/xapi/statements", headers: writer("1.0.3"),
			body: stmt(newUUID(), `{"id":"`+course+`","definition":{"name":{"en-US":"Course"},"type":"http://adlnet.gov/expapi/activities/course"}}`,
				`{"contextActivities":{"parent":{"id":"`+parent+`","definition":{"name":{"en-US":"Module"}}}}}`),
			wantStatus: 200},
		{name: "definer corrects", method: "POST", path: "/xapi/statements", headers: v("2.0.0"),
			body:       stmt(newUUID(), `{"id":"`+course+`","definition":{"name":{"en-US":"The course"}}}`, ""),
			wantStatus: 200},
		{name: "writer cannot override", method: "POST", path: "/xapi/statements", headers: writer("1.0.3"),
			body:       stmt(newUUID(), `{"id":"`+course+`","definition":{"name":{"en-US":"Hijacked","fi-FI":"Kurssi"}}}`, ""),
			wantStatus: 200},
		{name: "substatement", method: "POST", path: "/xapi/statements",
			body: stmt(newUUID(), `{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://example.fi/v"},
				"object":{"id":"`+sub+`","definition":{"name":{"en-US":"Sub"}}},
				"context":{"contextActivities":{"grouping":[{"id":"`+parent+`","definition":{"description":{"en-US":"A module"}}}]}}}`, ""),
			wantStatus: 200},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv) })
	}
	wantActivity(t, srv, course, `{"name":{"en-US":"The course","fi-FI":"Kurssi"},"type":"http://adlnet.gov/expapi/activities/course"}`)
	wantActivity(t, srv, parent, `{"name":{"en-US":"Module"},"description":{"en-US":"A module"}}`)
	wantActivity(t, srv, sub, `{"name":{"en-US":"Sub"}}`)

	t.Run("a statement stored again changes nothing", func(t *testing.T) {
		id := newUUID()
		first := stmt(id, `{"id":"http://example.fi/activities/again","definition":{"name":{"en-US":"First"}}}`, "")
		second := stmt(id, `{"id":"http://example.fi/activities/again","definition":{"name":{"en-US":"Second"}}}`, "")
		resp, b := send(t, srv, "POST", "/xapi/statements", "application/json", []byte(first))
		wantStatus(t, resp, b, http.StatusOK)
		time.Sleep(5 * time.Millisecond)
		resp, b = send(t, srv, "POST", "/xapi/statements", "application/json", []byte(second))
		wantStatus(t, resp, b, http.StatusOK)
		wantActivity(t, srv, "http://example.fi/activities/again", `{"name":{"en-US":"First"}}`)
	})

	t.Run("format canonical", func(t *testing.T) {
		id := newUUID()
		s := stmt(id, `{"id":"`+course+`","definition":{"name":{"en-US":"Old name"},"description":{"en-US":"Only here"}}}`, "")
		for _, sc := range []scenario{
			{name: "store by the writer", method: "POST", path: "/xapi/statements", headers: writer("1.0.3"), body: s, wantStatus: 200},
			{name: "canonical", method: "GET", path: "/xapi/statements?format=canonical&statementId=" + id,
				headers:    map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret, "Accept-Language": "en-US"},
				wantStatus: 200, wantBody: []string{`"name":{"en-US":"The course"}`, `"type":"http://adlnet.gov/expapi/activities/course"`, `"description":{"en-US":"Only here"}`}},
			{name: "canonical filters languages", method: "GET", path: "/xapi/statements?format=canonical&statementId=" + id,
				headers:    map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret, "Accept-Language": "fi"},
				wantStatus: 200, wantBody: []string{`"name":{"fi-FI":"Kurssi"}`}},
			{name: "exact keeps the statement's own", method: "GET", path: "/xapi/statements?statementId=" + id,
				wantStatus: 200, wantBody: []string{`"name":{"en-US":"Old name"}`}},
		} {
			sc.run(t, srv)
		}
	})
}

func TestAgents(t *testing.T) {
	srv := MustOpenServerWithWriter(t)
	q := func(agent string) string { return "/xapi/agents?agent=" + url.QueryEscape(agent) }
	post := `[{"actor":{"name":"Liisa","mbox":"mailto:liisa@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/a"}},
		{"actor":{"name":"Liisa L.","mbox":"mailto:liisa@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/b"}},
		{"actor":{"name":"Other","mbox":"mailto:other@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/b"}}]`
	scenarios := []scenario{
		{name: "store", method: "POST", path: "/xapi/statements", body: post, wantStatus: 200},
		{name: "unknown agent", method: "GET", path: q(`{"mbox":"mailto:nobody@example.fi"}`), headers: v("2.0.0"),
			wantStatus: 200, wantBody: []string{`{"objectType":"Person","mbox":["mailto:nobody@example.fi"]}`}},
		{name: "account", method: "GET", path: q(`{"objectType":"Agent","name":"L","account":{"homePage":"https://mpass-proxy.csc.fi","name":"8b2f"}}`),
			wantStatus: 200, wantBody: []string{`{"objectType":"Person","name":["L"],"account":[{"homePage":"https://mpass-proxy.csc.fi","name":"8b2f"}]}`}},
		{name: "names from statements", method: "GET", path: q(`{"mbox":"mailto:liisa@example.fi"}`),
			wantStatus: 200, wantBody: []string{`"name":["Liisa L.","Liisa"]`, `"mbox":["mailto:liisa@example.fi"]`}},
		{name: "no names without statements/read", method: "GET", path: q(`{"mbox":"mailto:liisa@example.fi"}`), headers: writer("1.0.3"),
			wantStatus: 200, wantBody: []string{`{"objectType":"Person","mbox":["mailto:liisa@example.fi"]}`}},
		{name: "missing agent", method: "GET", path: "/xapi/agents", wantStatus: 400, wantBody: []string{"agent: required"}},
		{name: "agent not JSON", method: "GET", path: "/xapi/agents?agent=liisa", wantStatus: 400, wantBody: []string{"agent"}},
		{name: "agent without identifier", method: "GET", path: q(`{"name":"Liisa"}`), wantStatus: 400, wantBody: []string{"agent"}},
		{name: "group", method: "GET", path: q(`{"objectType":"Group","mbox":"mailto:team@example.fi"}`), wantStatus: 400, wantBody: []string{"agent: must be an Agent"}},
		{name: "unknown parameter", method: "GET", path: q(`{"mbox":"mailto:a@example.fi"}`) + "&activityId=http://example.fi/a", wantStatus: 400, wantBody: []string{"activityId: unknown parameter"}},
		{name: "head", method: "HEAD", path: q(`{"mbox":"mailto:a@example.fi"}`), wantStatus: 200},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv) })
	}
}
