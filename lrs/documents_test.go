package lrs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
)

// mustOpenDocServer starts an LRS on a fresh embedded store with, besides
// the test credential (scope all), credentials of narrower scopes and one
// of another tenant: key = secret = the name.
func mustOpenDocServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, now); err != nil {
		tb.Fatal(err)
	}
	if err := store.CreateTenant(ctx, statements.Tenant{ID: "other", Name: "Other", Created: now}); err != nil {
		tb.Fatal(err)
	}
	for _, c := range []struct{ key, tenant, scope string }{
		{"state-only", lrs.DefaultTenant, "state"},
		{"profile-only", lrs.DefaultTenant, "profile"},
		{"read-only", lrs.DefaultTenant, "all/read"},
		{"statements-only", lrs.DefaultTenant, "statements/write"},
		{"other-tenant", "other", "all"},
	} {
		hash, err := lrs.HashSecret(c.key)
		if err != nil {
			tb.Fatal(err)
		}
		err = store.CreateCredential(ctx, statements.Credential{Key: c.key, Tenant: c.tenant, SecretHash: hash,
			Scopes: []string{c.scope}, Authority: lrs.Authority(c.key, c.key), Created: now})
		if err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: store})))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// dh returns the headers of a request in version with the test credential
// and the extra header pairs.
func dh(version string, kv ...string) map[string]string {
	h := v(version)
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// as returns the headers of a 1.0.3 request with the credential key (whose
// secret is the key).
func as(key string) map[string]string {
	return map[string]string{"X-Experience-API-Version": "1.0.3", "auth": key + ":" + key}
}

func etag(content string) string { return statements.DocumentETag([]byte(content)) }

const (
	docActivity = "http://example.fi/activities/doc"
	docAgent    = `{"objectType":"Agent","mbox":"mailto:learner@example.fi"}`
	docReg      = "a4f3c2d1-0b9e-4c8d-8a7f-6e5d4c3b2a10"
)

// statePath returns the state resource URL of docActivity and docAgent
// with the extra parameter pairs.
func statePath(kv ...string) string {
	q := url.Values{"activityId": {docActivity}, "agent": {docAgent}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/xapi/activities/state?" + q.Encode()
}

func activityProfilePath(kv ...string) string {
	q := url.Values{"activityId": {docActivity}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/xapi/activities/profile?" + q.Encode()
}

func agentProfilePath(agent string, kv ...string) string {
	q := url.Values{"agent": {agent}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/xapi/agents/profile?" + q.Encode()
}

func runScenarios(t *testing.T, scenarios []scenario) {
	t.Helper()
	srv := mustOpenDocServer(t)
	for _, sc := range scenarios {
		sc.run(t, srv)
	}
}

func TestAPI_State(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "get missing", method: "GET", path: statePath("stateId", "s1"), wantStatus: 404},
		{name: "put", method: "PUT", path: statePath("stateId", "s1"), body: `{"x":"foo","y":"bar"}`, wantStatus: 204,
			wantHeader: map[string]string{"ETag": etag(`{"x":"foo","y":"bar"}`)}},
		{name: "get", method: "GET", path: statePath("stateId", "s1"), wantStatus: 200, wantBody: []string{`{"x":"foo","y":"bar"}`},
			wantHeader: map[string]string{"ETag": etag(`{"x":"foo","y":"bar"}`), "Content-Type": "application/json"}},
		{name: "head", method: "HEAD", path: statePath("stateId", "s1"), wantStatus: 200,
			wantHeader: map[string]string{"ETag": etag(`{"x":"foo","y":"bar"}`)}},
		{name: "same agent by other JSON", method: "GET", wantStatus: 200, wantBody: []string{`"foo"`},
			path: "/xapi/activities/state?" + url.Values{"activityId": {docActivity}, "stateId": {"s1"},
				"agent": {`{"mbox":"mailto:learner@EXAMPLE.fi","name":"L"}`}}.Encode()},
		{name: "post merges", method: "POST", path: statePath("stateId", "s1"), body: `{"x":"bash","z":"faz"}`, wantStatus: 204},
		{name: "merged", method: "GET", path: statePath("stateId", "s1"), wantStatus: 200,
			wantBody: []string{`{"x":"bash","y":"bar","z":"faz"}`}, wantHeader: map[string]string{"Content-Type": "application/json",
				"X-Content-Type-Options": "nosniff", "Content-Security-Policy": ""}},
		{name: "post array", method: "POST", path: statePath("stateId", "s1"), body: `[1]`, wantStatus: 400, wantBody: []string{"JSON object"}},
		{name: "post not json type", method: "POST", path: statePath("stateId", "s1"), body: `{"a":1}`,
			headers: dh("1.0.3", "Content-Type", "text/plain"), wantStatus: 400, wantBody: []string{"Content-Type"}},
		{name: "unchanged after bad posts", method: "GET", path: statePath("stateId", "s1"), wantStatus: 200,
			wantBody: []string{`{"x":"bash","y":"bar","z":"faz"}`}},
		{name: "post creates", method: "POST", path: statePath("stateId", "s2"), body: `{"n":1}`, wantStatus: 204},
		{name: "put text", method: "PUT", path: statePath("stateId", "txt"), body: "plain words",
			headers: dh("1.0.3", "Content-Type", "text/plain; charset=utf-8"), wantStatus: 204},
		{name: "text kept", method: "GET", path: statePath("stateId", "txt"), wantStatus: 200, wantBody: []string{"plain words"},
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "put html", method: "PUT", path: statePath("stateId", "html"), body: "<script>alert(document.domain)</script>",
			headers: dh("1.0.3", "Content-Type", "text/html"), wantStatus: 204},
		{name: "html never runs on the LRS origin", method: "GET", path: statePath("stateId", "html"), wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": "text/html", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}},
		{name: "post into text", method: "POST", path: statePath("stateId", "txt"), body: `{"a":1}`, wantStatus: 400,
			wantBody: []string{"stored document is not application/json"}},
		{name: "binary", method: "PUT", path: statePath("stateId", "bin"), body: "\x89PNG\x00\xff\xfe",
			headers: dh("1.0.3", "Content-Type", "image/png"), wantStatus: 204},
		{name: "binary kept", method: "GET", path: statePath("stateId", "bin"), wantStatus: 200, wantBody: []string{"\x89PNG\x00\xff\xfe"},
			wantHeader: map[string]string{"Content-Type": "image/png", "ETag": etag("\x89PNG\x00\xff\xfe")}},
		{name: "1.0.3 put replaces without preconditions", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":2}`, wantStatus: 204},
		{name: "2.0 put over existing without preconditions", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":3}`,
			headers: dh("2.0.0"), wantStatus: 409, wantBody: []string{"If-Match"}},
		{name: "2.0 put new without preconditions", method: "PUT", path: statePath("stateId", "s3"), body: `{}`,
			headers: dh("2.0.0"), wantStatus: 204},
		{name: "if-match stale", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":3}`,
			headers: dh("2.0.0", "If-Match", etag(`{"n":1}`)), wantStatus: 412},
		{name: "if-match current", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":3}`,
			headers: dh("2.0.0", "If-Match", etag(`{"n":2}`)), wantStatus: 204},
		{name: "if-match in a list", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":4}`,
			headers: dh("1.0.3", "If-Match", `"abc", `+etag(`{"n":3}`)), wantStatus: 204},
		{name: "if-none-match existing", method: "PUT", path: statePath("stateId", "s2"), body: `{"n":5}`,
			headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 412},
		{name: "if-match missing document", method: "PUT", path: statePath("stateId", "s9"), body: `{}`,
			headers: dh("1.0.3", "If-Match", "*"), wantStatus: 412},
		{name: "post if-match stale", method: "POST", path: statePath("stateId", "s2"), body: `{"m":1}`,
			headers: dh("2.0.0", "If-Match", etag(`{"n":1}`)), wantStatus: 412},
		{name: "get if-none-match", method: "GET", path: statePath("stateId", "s2"),
			headers: dh("2.0.0", "If-None-Match", etag(`{"n":4}`)), wantStatus: 304},
		{name: "ids", method: "GET", path: statePath(), wantStatus: 200, wantBody: []string{`["bin","html","s1","s2","s3","txt"]`}},
		{name: "ids since future", method: "GET", path: statePath("since", time.Now().Add(time.Hour).Format(time.RFC3339)),
			wantStatus: 200, wantBody: []string{`[]`}},
		{name: "ids since past", method: "GET", path: statePath("since", "2020-01-01T00:00:00Z"),
			wantStatus: 200, wantBody: []string{`["bin","html","s1","s2","s3","txt"]`}},
		{name: "put with registration", method: "PUT", path: statePath("stateId", "r1", "registration", docReg), body: `{}`, wantStatus: 204},
		{name: "ids of registration", method: "GET", path: statePath("registration", docReg), wantStatus: 200, wantBody: []string{`["r1"]`}},
		{name: "no registration is another document", method: "GET", path: statePath("stateId", "r1"), wantStatus: 404},
		{name: "ids of any registration", method: "GET", path: statePath(), wantStatus: 200, wantBody: []string{`"r1"`}},
		{name: "delete one", method: "DELETE", path: statePath("stateId", "txt"), wantStatus: 204},
		{name: "deleted", method: "GET", path: statePath("stateId", "txt"), wantStatus: 404},
		{name: "delete missing", method: "DELETE", path: statePath("stateId", "txt"), wantStatus: 204},
		{name: "delete if-match stale", method: "DELETE", path: statePath("stateId", "s1"),
			headers: dh("1.0.3", "If-Match", etag("old")), wantStatus: 412},
		{name: "delete all of registration", method: "DELETE", path: statePath("registration", docReg), wantStatus: 204},
		{name: "others kept", method: "GET", path: statePath(), wantStatus: 200, wantBody: []string{`["bin","html","s1","s2","s3"]`}},
		{name: "delete all", method: "DELETE", path: statePath(), wantStatus: 204},
		{name: "none left", method: "GET", path: statePath(), wantStatus: 200, wantBody: []string{`[]`}},

		{name: "missing activityId", method: "GET", path: "/xapi/activities/state?agent=" + url.QueryEscape(docAgent),
			wantStatus: 400, wantBody: []string{"activityId: required"}},
		{name: "missing agent", method: "GET", path: "/xapi/activities/state?activityId=" + url.QueryEscape(docActivity),
			wantStatus: 400, wantBody: []string{"agent: required"}},
		{name: "put missing stateId", method: "PUT", path: statePath(), body: `{}`, wantStatus: 400, wantBody: []string{"stateId: required"}},
		{name: "malformed agent", method: "GET", path: statePath("agent", `{"mbox":`), wantStatus: 400, wantBody: []string{"agent"}},
		{name: "agent without ifi", method: "GET", path: statePath("agent", `{"name":"x"}`), wantStatus: 400, wantBody: []string{"agent"}},
		{name: "group as agent", method: "GET", path: statePath("agent", `{"objectType":"Group","mbox":"mailto:g@example.fi"}`),
			wantStatus: 400, wantBody: []string{"agent: must be an Agent"}},
		{name: "bad activityId", method: "GET", path: statePath("activityId", "not an iri"), wantStatus: 400, wantBody: []string{"activityId"}},
		{name: "bad registration", method: "GET", path: statePath("registration", "x"), wantStatus: 400, wantBody: []string{"registration"}},
		{name: "bad since", method: "GET", path: statePath("since", "yesterday"), wantStatus: 400, wantBody: []string{"since"}},
		{name: "since with stateId", method: "GET", path: statePath("stateId", "s1", "since", "2020-01-01T00:00:00Z"),
			wantStatus: 400, wantBody: []string{"since: not allowed"}},
		{name: "unknown parameter", method: "GET", path: statePath("colour", "red"), wantStatus: 400, wantBody: []string{"colour: unknown parameter"}},
		{name: "parameter in other case", method: "GET", path: statePath("StateId", "s1"), wantStatus: 400, wantBody: []string{"StateId: unknown parameter"}},
		{name: "since on put", method: "PUT", path: statePath("stateId", "s1", "since", "2020-01-01T00:00:00Z"), body: `{}`,
			wantStatus: 400, wantBody: []string{"since: unknown parameter"}},
	})
}

func TestAPI_Profiles(t *testing.T) {
	sha1Agent := `{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`
	openIDAgent := `{"openid":"https://id.example.fi/learner"}`
	accountAgent := `{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"8b2f7e1c"}}`
	runScenarios(t, []scenario{
		{name: "1.0.3 put new without preconditions", method: "PUT", path: activityProfilePath("profileId", "p1"), body: `{"a":1}`,
			wantStatus: 400, wantBody: []string{"If-Match or If-None-Match", "1.0.3"}},
		{name: "not created by the 400", method: "GET", path: activityProfilePath("profileId", "p1"), wantStatus: 404},
		{name: "2.0 put new without preconditions", method: "PUT", path: activityProfilePath("profileId", "p0"), body: `{}`,
			headers: dh("2.0.0"), wantStatus: 204},
		{name: "activity profile put", method: "PUT", path: activityProfilePath("profileId", "p1"), body: `{"a":1}`,
			headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "activity profile get", method: "GET", path: activityProfilePath("profileId", "p1"), wantStatus: 200,
			wantBody: []string{`{"a":1}`}, wantHeader: map[string]string{"ETag": etag(`{"a":1}`)}},
		{name: "1.0.3 put over existing without preconditions", method: "PUT", path: activityProfilePath("profileId", "p1"), body: `{"a":2}`,
			wantStatus: 409, wantBody: []string{"If-Match"}},
		{name: "2.0 put over existing without preconditions", method: "PUT", path: activityProfilePath("profileId", "p1"), body: `{"a":2}`,
			headers: dh("2.0.0"), wantStatus: 409, wantBody: []string{"If-Match"}},
		{name: "unchanged after 409", method: "GET", path: activityProfilePath("profileId", "p1"), wantStatus: 200, wantBody: []string{`{"a":1}`}},
		{name: "put if-match", method: "PUT", path: activityProfilePath("profileId", "p1"), body: `{"a":2}`,
			headers: dh("1.0.3", "If-Match", etag(`{"a":1}`)), wantStatus: 204},
		{name: "put if-none-match new", method: "PUT", path: activityProfilePath("profileId", "p2"), body: `{}`,
			headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "post merges", method: "POST", path: activityProfilePath("profileId", "p1"), body: `{"b":3}`, wantStatus: 204},
		{name: "merged", method: "GET", path: activityProfilePath("profileId", "p1"), wantStatus: 200, wantBody: []string{`{"a":2,"b":3}`}},
		{name: "ids", method: "GET", path: activityProfilePath(), wantStatus: 200, wantBody: []string{`["p0","p1","p2"]`}},
		{name: "ids since", method: "GET", path: activityProfilePath("since", time.Now().Add(time.Hour).Format(time.RFC3339Nano)),
			wantStatus: 200, wantBody: []string{`[]`}},
		{name: "agent not allowed", method: "GET", path: activityProfilePath("agent", docAgent), wantStatus: 400, wantBody: []string{"agent: unknown parameter"}},
		{name: "delete stale", method: "DELETE", path: activityProfilePath("profileId", "p2"),
			headers: dh("2.0.0", "If-Match", etag("x")), wantStatus: 412},
		{name: "delete", method: "DELETE", path: activityProfilePath("profileId", "p2"),
			headers: dh("2.0.0", "If-Match", etag("{}")), wantStatus: 204},
		{name: "delete needs profileId", method: "DELETE", path: activityProfilePath(), wantStatus: 400, wantBody: []string{"profileId: required"}},

		{name: "agent profile by mbox", method: "PUT", path: agentProfilePath(docAgent, "profileId", "p"), body: `{"m":1}`, headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "agent profile by sha1", method: "PUT", path: agentProfilePath(sha1Agent, "profileId", "p"), body: `{"s":1}`, headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "agent profile by openid", method: "PUT", path: agentProfilePath(openIDAgent, "profileId", "p"), body: `{"o":1}`, headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "agent profile by account", method: "PUT", path: agentProfilePath(accountAgent, "profileId", "p"), body: `{"c":1}`, headers: dh("1.0.3", "If-None-Match", "*"), wantStatus: 204},
		{name: "get by mbox", method: "GET", path: agentProfilePath(docAgent, "profileId", "p"), wantStatus: 200, wantBody: []string{`{"m":1}`}},
		{name: "get by sha1", method: "GET", path: agentProfilePath(sha1Agent, "profileId", "p"), wantStatus: 200, wantBody: []string{`{"s":1}`}},
		{name: "get by openid", method: "GET", path: agentProfilePath(openIDAgent, "profileId", "p"), wantStatus: 200, wantBody: []string{`{"o":1}`}},
		{name: "get by account", method: "GET", path: agentProfilePath(accountAgent, "profileId", "p"), wantStatus: 200, wantBody: []string{`{"c":1}`}},
		{name: "agent profile ids", method: "GET", path: agentProfilePath(accountAgent), wantStatus: 200, wantBody: []string{`["p"]`}},
		{name: "agent profile group", method: "GET", path: agentProfilePath(`{"objectType":"Group","mbox":"mailto:g@example.fi"}`),
			wantStatus: 400, wantBody: []string{"agent: must be an Agent"}},
		{name: "agent profile two ifis", method: "GET", path: agentProfilePath(`{"mbox":"mailto:a@example.fi","openid":"https://id.example.fi/a"}`),
			wantStatus: 400, wantBody: []string{"agent"}},
		{name: "agent profile missing agent", method: "GET", path: "/xapi/agents/profile?profileId=p", wantStatus: 400, wantBody: []string{"agent: required"}},
		{name: "1.0.3 agent profile put new without preconditions", method: "PUT", path: agentProfilePath(docAgent, "profileId", "n"), body: `{}`,
			wantStatus: 400, wantBody: []string{"If-None-Match"}},
		{name: "agent profile post into text", method: "PUT", path: agentProfilePath(docAgent, "profileId", "t"), body: "text",
			headers: dh("1.0.3", "Content-Type", "text/plain", "If-None-Match", "*"), wantStatus: 204},
		{name: "agent profile post merge refused", method: "POST", path: agentProfilePath(docAgent, "profileId", "t"), body: `{"a":1}`,
			wantStatus: 400},
	})
}

func TestAPI_DocumentScopesAndTenants(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "state scope writes state", method: "PUT", path: statePath("stateId", "s"), body: `{}`, headers: as("state-only"), wantStatus: 204},
		{name: "state scope reads state", method: "GET", path: statePath("stateId", "s"), headers: as("state-only"), wantStatus: 200},
		{name: "state scope no profile", method: "GET", path: activityProfilePath(), headers: as("state-only"), wantStatus: 403},
		{name: "profile scope writes profiles", method: "PUT", path: activityProfilePath("profileId", "p"), body: `{}`,
			headers: dh("2.0.0", "auth", "profile-only:profile-only"), wantStatus: 204},
		{name: "profile scope no state", method: "GET", path: statePath(), headers: as("profile-only"), wantStatus: 403},
		{name: "all/read reads state", method: "GET", path: statePath("stateId", "s"), headers: as("read-only"), wantStatus: 200},
		{name: "all/read reads profiles", method: "GET", path: activityProfilePath(), headers: as("read-only"), wantStatus: 200},
		{name: "all/read cannot write", method: "PUT", path: statePath("stateId", "s2"), body: `{}`, headers: as("read-only"), wantStatus: 403},
		{name: "all/read cannot delete", method: "DELETE", path: statePath(), headers: as("read-only"), wantStatus: 403},
		{name: "statements scope no documents", method: "GET", path: statePath(), headers: as("statements-only"), wantStatus: 403},
		{name: "other tenant sees nothing", method: "GET", path: statePath("stateId", "s"), headers: as("other-tenant"), wantStatus: 404},
		{name: "other tenant ids", method: "GET", path: statePath(), headers: as("other-tenant"), wantStatus: 200, wantBody: []string{`[]`}},
		{name: "other tenant deletes its own", method: "DELETE", path: statePath(), headers: as("other-tenant"), wantStatus: 204},
		{name: "still there", method: "GET", path: statePath("stateId", "s"), wantStatus: 200},
		{name: "no credential", method: "GET", path: statePath(), headers: map[string]string{"X-Experience-API-Version": "1.0.3"}, wantStatus: 401},
		{name: "no version", method: "GET", path: statePath(), headers: map[string]string{"auth": testKey + ":" + testSecret}, wantStatus: 400},
	})
}

// TestAPI_ConcurrentMerges: many clients merging into one document at
// once all succeed, and the document holds every one of their properties.
// Two servers on one store stand for two LRS processes.
func TestAPI_ConcurrentMerges(t *testing.T) {
	srv := mustOpenDocServer(t)
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lrs.Bootstrap(t.Context(), store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	a, b := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store}))), httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store})))
	t.Cleanup(func() { a.Close(); b.Close(); store.Close() })
	t.Run("OneProcess", func(t *testing.T) { concurrentMerges(t, srv, srv) })
	t.Run("TwoProcesses", func(t *testing.T) { concurrentMerges(t, a, b) })
}

func concurrentMerges(t *testing.T, srv, other *httptest.Server) {
	const writers = 40
	var wg sync.WaitGroup
	statuses := make([]int, writers)
	for i := range writers {
		wg.Go(func() {
			to := srv
			if i%2 == 1 {
				to = other
			}
			req, _ := http.NewRequest("POST", to.URL+statePath("stateId", "merged"), strings.NewReader(fmt.Sprintf(`{"w%d":%d}`, i, i)))
			req.SetBasicAuth(testKey, testSecret)
			req.Header.Set("X-Experience-API-Version", "2.0.0")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusNoContent {
			t.Errorf("merge %d: status %d, want 204", i, st)
		}
	}
	_, _, body := call(t, srv, "GET", statePath("stateId", "merged"), testKey+":"+testSecret, "")
	var got map[string]int
	if err := json.Unmarshal(body, &got); err != nil || len(got) != writers {
		t.Errorf("merged document has %d properties (%v), want %d: %s", len(got), err, writers, body)
	}
}
