package lrs_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

const adminToken = "admin-token-for-tests"

// mustOpenAdminServer starts an LRS with the admin API on a fresh store.
func mustOpenAdminServer(tb testing.TB, cfg lrs.Config) *httptest.Server {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Store, cfg.Admin, cfg.AdminToken = store, store, adminToken
	srv := httptest.NewServer(withContract(tb, lrs.New(cfg)))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// call makes a request and returns its status and body; auth is
// "Bearer TOKEN" or "KEY:SECRET".
func call(tb testing.TB, srv *httptest.Server, method, path, auth, body string) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if k, s, ok := strings.Cut(auth, ":"); ok {
		req.SetBasicAuth(k, s)
	}
	req.Header.Set("X-Experience-API-Version", "1.0.3")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func mustCall(tb testing.TB, srv *httptest.Server, method, path, auth, body string, want int) []byte {
	tb.Helper()
	got, _, b := call(tb, srv, method, path, auth, body)
	if got != want {
		tb.Fatalf("%s %s: %d, want %d: %s", method, path, got, want, b)
	}
	return b
}

const bearer = "Bearer " + adminToken

// mustCreateCredential creates a credential through the admin API and
// returns "key:secret".
func mustCreateCredential(tb testing.TB, srv *httptest.Server, tenant, body string) string {
	tb.Helper()
	var c lrs.CredentialJSON
	b := mustCall(tb, srv, "POST", "/admin/tenants/"+tenant+"/credentials", bearer, body, http.StatusCreated)
	if err := json.Unmarshal(b, &c); err != nil || c.Key == "" || len(c.Secret) < 20 {
		tb.Fatalf("created credential: %v %s", err, b)
	}
	return c.Key + ":" + c.Secret
}

func stmtBody(id string) string {
	return `{"id":"` + id + `","actor":{"mbox":"mailto:learner@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"id":"https://example.fi/a"}}`
}

func TestAdminAPI_TenantsAndCredentials(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer wrong", "test-key:test-secret"} {
			got, h, b := call(t, srv, "GET", "/admin/tenants", auth, "")
			if got != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("auth %q: %d %q, want 401 Bearer: %s", auth, got, h.Get("WWW-Authenticate"), b)
			}
		}
	})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo","name":"Espoon kaupunki"}`, http.StatusCreated)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"vantaa"}`, http.StatusCreated)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusConflict)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"Not Valid"}`, http.StatusBadRequest)
	var ts []lrs.TenantJSON
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants", bearer, "", http.StatusOK), &ts)
	if len(ts) != 2 || ts[0].ID != "espoo" || ts[0].Name != "Espoon kaupunki" || ts[1].ID != "vantaa" {
		t.Fatalf("tenants: %+v", ts)
	}
	mustCall(t, srv, "POST", "/admin/tenants/espoo/credentials", bearer, `{"scopes":["root"]}`, http.StatusBadRequest)
	mustCall(t, srv, "POST", "/admin/tenants/nowhere/credentials", bearer, `{"scopes":["all"]}`, http.StatusNotFound)

	app := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/write","statements/read/mine"],"app":"Vendor A"}`)
	key := strings.Split(app, ":")[0]
	mustCall(t, srv, "POST", "/xapi/statements", app, stmtBody("00000000-0000-4000-8000-000000000001"), http.StatusOK)
	var st map[string]any
	json.Unmarshal(mustCall(t, srv, "GET", "/xapi/statements?statementId=00000000-0000-4000-8000-000000000001", app, "", http.StatusOK), &st)
	auth, _ := json.Marshal(st["authority"])
	for _, want := range []string{`"objectType":"Group"`, `"name":"` + key + `"`, `"name":"espoo"`} {
		if !strings.Contains(string(auth), want) {
			t.Errorf("authority %s lacks %s", auth, want)
		}
	}

	var cs []lrs.CredentialJSON
	json.Unmarshal(mustCall(t, srv, "GET", "/admin/tenants/espoo/credentials", bearer, "", http.StatusOK), &cs)
	if len(cs) != 1 || cs[0].Key != key || cs[0].Secret != "" || cs[0].Name != "Vendor A" {
		t.Fatalf("credentials: %+v", cs)
	}

	t.Run("RotateWorksAtOnce", func(t *testing.T) {
		var c lrs.CredentialJSON
		json.Unmarshal(mustCall(t, srv, "POST", "/admin/credentials/"+key+"/rotate", bearer, "", http.StatusOK), &c)
		mustCall(t, srv, "GET", "/xapi/statements", app, "", http.StatusUnauthorized)
		app = key + ":" + c.Secret
		mustCall(t, srv, "GET", "/xapi/statements", app, "", http.StatusOK)
	})
	t.Run("DisableTenantWorksAtOnce", func(t *testing.T) {
		mustCall(t, srv, "PATCH", "/admin/tenants/espoo", bearer, `{"disabled":true}`, http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements", app, "", http.StatusForbidden)
		mustCall(t, srv, "PATCH", "/admin/tenants/espoo", bearer, `{"disabled":false}`, http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements", app, "", http.StatusOK)
	})
	t.Run("RevokeWorksAtOnce", func(t *testing.T) {
		mustCall(t, srv, "POST", "/admin/credentials/"+key+"/revoke", bearer, "", http.StatusOK)
		mustCall(t, srv, "GET", "/xapi/statements", app, "", http.StatusUnauthorized)
		mustCall(t, srv, "POST", "/admin/credentials/"+key+"/rotate", bearer, "", http.StatusConflict)
	})
	t.Run("Audit", func(t *testing.T) {
		var es []lrs.AuditJSON
		json.Unmarshal(mustCall(t, srv, "GET", "/admin/audit?limit=3", bearer, "", http.StatusOK), &es)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
			if e.Actor != "admin-api" || e.Time.IsZero() {
				t.Errorf("entry %+v: want actor admin-api and a time", e)
			}
		}
		if got, want := strings.Join(actions, " "), "credential.revoke tenant.enable tenant.disable"; got != want {
			t.Errorf("audit: %s, want %s", got, want)
		}
	})
}

func TestAdminAPI_OffWithoutToken(t *testing.T) {
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store})))
	defer srv.Close()
	mustCall(t, srv, "GET", "/admin/tenants", "Bearer ", "", http.StatusNotFound)
}

func TestScopes_ReadMine(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	a := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/write","statements/read/mine"],"app":"A"}`)
	b := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/write","statements/read/mine"],"app":"B"}`)
	reader := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/read"]}`)
	writer := mustCreateCredential(t, srv, "espoo", `{"scopes":["statements/write"]}`)
	idA, idB := "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	mustCall(t, srv, "POST", "/xapi/statements", a, stmtBody(idA), http.StatusOK)
	mustCall(t, srv, "POST", "/xapi/statements", b, stmtBody(idB), http.StatusOK)
	// B refers to A's statement: it matches A's terms, but is not A's.
	mustCall(t, srv, "POST", "/xapi/statements", b, `{"actor":{"mbox":"mailto:x@example.fi"},"verb":{"id":"https://example.fi/v"},"object":{"objectType":"StatementRef","id":"`+idA+`"}}`, http.StatusOK)

	ids := func(auth string) []string {
		var r struct{ Statements []struct{ ID string } }
		json.Unmarshal(mustCall(t, srv, "GET", "/xapi/statements", auth, "", http.StatusOK), &r)
		var out []string
		for _, s := range r.Statements {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids(a); len(got) != 1 || got[0] != idA {
		t.Errorf("A sees %v, want only %s", got, idA)
	}
	if got := ids(b); len(got) != 2 {
		t.Errorf("B sees %v, want its 2", got)
	}
	if got := ids(reader); len(got) != 3 {
		t.Errorf("statements/read sees %v, want all 3", got)
	}
	mustCall(t, srv, "GET", "/xapi/statements?statementId="+idA, a, "", http.StatusOK)
	mustCall(t, srv, "GET", "/xapi/statements?statementId="+idB, a, "", http.StatusNotFound)
	_, _, body := call(t, srv, "GET", "/xapi/statements", writer, "")
	if got, _, _ := call(t, srv, "GET", "/xapi/statements", writer, ""); got != http.StatusForbidden || !strings.Contains(string(body), "statements/read/mine") {
		t.Errorf("write-only credential reading: %d %s, want 403 naming statements/read/mine", got, body)
	}
	_, _, body = call(t, srv, "PUT", "/xapi/activities/state?activityId=https://example.fi/a&agent=%7B%22mbox%22%3A%22mailto%3Ax%40example.fi%22%7D&stateId=s", a, `{}`)
	if !strings.Contains(string(body), `scope \"state\"`) {
		t.Errorf("state without the scope: %s, want a message naming state", body)
	}
}

func TestLimits(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := mustOpenAdminServer(t, lrs.Config{Now: clock})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo","limits":{"rate":1,"burst":3,"batch":2,"queryLimit":1}}`, http.StatusCreated)
	c := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)

	t.Run("Batch", func(t *testing.T) {
		three := "[" + stmtBody("00000000-0000-4000-8000-000000000001") + "," + stmtBody("00000000-0000-4000-8000-000000000002") + "," + stmtBody("00000000-0000-4000-8000-000000000003") + "]"
		mustCall(t, srv, "POST", "/xapi/statements", c, three, http.StatusRequestEntityTooLarge)
		mustCall(t, srv, "POST", "/xapi/statements", c, "["+stmtBody("00000000-0000-4000-8000-000000000001")+","+stmtBody("00000000-0000-4000-8000-000000000002")+"]", http.StatusOK)
	})
	t.Run("QueryLimit", func(t *testing.T) {
		var r struct {
			Statements []any
			More       string
		}
		json.Unmarshal(mustCall(t, srv, "GET", "/xapi/statements?limit=10", c, "", http.StatusOK), &r)
		if len(r.Statements) != 1 || r.More == "" {
			t.Errorf("limit=10 under a query limit of 1: %d statements, more %q", len(r.Statements), r.More)
		}
	})
	t.Run("Rate", func(t *testing.T) {
		// The burst of 3 is spent by the requests above: the next is 429.
		got, h, b := call(t, srv, "GET", "/xapi/statements", c, "")
		if got != http.StatusTooManyRequests || h.Get("Retry-After") != "1" {
			t.Fatalf("over the rate: %d, Retry-After %q: %s", got, h.Get("Retry-After"), b)
		}
		now = now.Add(time.Second)
		mustCall(t, srv, "GET", "/xapi/statements", c, "", http.StatusOK)
	})
}

func TestLogin_Backoff(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	srv := mustOpenAdminServer(t, lrs.Config{Now: func() time.Time { return now }})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	good := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	key := strings.Split(good, ":")[0]
	mustCall(t, srv, "GET", "/xapi/statements", good, "", http.StatusOK)
	for range 5 {
		mustCall(t, srv, "GET", "/xapi/statements", key+":guess", "", http.StatusUnauthorized)
	}
	mustCall(t, srv, "GET", "/xapi/statements", key+":guess", "", http.StatusUnauthorized)
	// After the free failures, guesses wait, unchecked.
	got, h, _ := call(t, srv, "GET", "/xapi/statements", key+":guess", "")
	if got != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("guess during backoff: %d, Retry-After %q; want 429 with Retry-After", got, h.Get("Retry-After"))
	}
	// The legitimate client, from the same address, is not locked out.
	mustCall(t, srv, "GET", "/xapi/statements", good, "", http.StatusOK)
	now = now.Add(2 * time.Second)
	mustCall(t, srv, "GET", "/xapi/statements", key+":guess", "", http.StatusUnauthorized)
}

// TestAdmin_CredentialXAPIVersion: a credential declares the xAPI version
// its app speaks; a request that names no version is answered in it, and
// in the newest version when the credential declares none or the request
// does not authenticate.
func TestAdmin_CredentialXAPIVersion(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	old := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"],"app":"Vendor A","xapiVersion":"1.0.3"}`)
	plain := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	if got, _, b := call(t, srv, "POST", "/admin/tenants/espoo/credentials", bearer, `{"scopes":["all"],"xapiVersion":"1.0"}`); got != http.StatusBadRequest ||
		!strings.Contains(string(b), "xapiVersion") {
		t.Errorf("xapiVersion 1.0: %d %s, want 400 naming xapiVersion", got, b)
	}
	b := mustCall(t, srv, "GET", "/admin/tenants/espoo/credentials", bearer, "", http.StatusOK)
	if !strings.Contains(string(b), `"xapiVersion":"1.0.3"`) {
		t.Errorf("credential list lacks the declared version: %s", b)
	}

	noVersion := func(auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/xapi/statements", nil)
		if k, s, ok := strings.Cut(auth, ":"); ok {
			req.SetBasicAuth(k, s)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Experience-API-Version")
	}
	oldKey, _, _ := strings.Cut(old, ":")
	for _, tc := range []struct {
		name, auth, want string
	}{
		{"declared 1.0.3", old, "1.0.3"},
		{"declares none", plain, "2.0.0"},
		{"wrong secret", oldKey + ":wrong", "2.0.0"},
		{"no credential", "", "2.0.0"},
	} {
		status, v := noVersion(tc.auth)
		if status != http.StatusBadRequest || v != tc.want {
			t.Errorf("%s: %d, version %q; want 400, %q", tc.name, status, v, tc.want)
		}
	}

	plainKey, _, _ := strings.Cut(plain, ":")
	mustCall(t, srv, "PATCH", "/admin/credentials/"+plainKey, bearer, `{"xapiVersion":"1.0.3"}`, http.StatusOK)
	if _, v := noVersion(plain); v != "1.0.3" {
		t.Errorf("after PATCH to 1.0.3: version %q", v)
	}
	mustCall(t, srv, "PATCH", "/admin/credentials/"+oldKey, bearer, `{"xapiVersion":"3.0.0"}`, http.StatusBadRequest)
}

// TestLogin_AdminTokenAlwaysWorks: wrong admin tokens are slowed down, and
// the right token is let in all the same.
func TestLogin_AdminTokenAlwaysWorks(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	srv := mustOpenAdminServer(t, lrs.Config{Now: func() time.Time { return now }})
	for range 10 {
		call(t, srv, "GET", "/admin/tenants", "Bearer wrong-token", "")
	}
	if got, _, _ := call(t, srv, "GET", "/admin/tenants", "Bearer wrong-token", ""); got != http.StatusTooManyRequests {
		t.Errorf("wrong token after 10 failures: %d, want 429", got)
	}
	mustCall(t, srv, "GET", "/admin/tenants", bearer, "", http.StatusOK)
}

// TestCORS: without an allow-list every origin gets "*" and no
// credentials; with one, only its origins get their origin back with
// credentials; the admin API answers no CORS at all.
func TestCORS(t *testing.T) {
	preflight := func(srv *httptest.Server, path, origin string) http.Header {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	open := mustOpenAdminServer(t, lrs.Config{})
	listed := mustOpenAdminServer(t, lrs.Config{CORSOrigins: []string{"https://app.example.fi"}})
	for _, tc := range []struct {
		name              string
		srv               *httptest.Server
		path, origin      string
		wantOrigin, creds string
	}{
		{"default, any origin", open, "/xapi/statements", "https://evil.example", "*", ""},
		{"default, null origin", open, "/xapi/statements", "null", "*", ""},
		{"default, admin", open, "/admin/tenants", "https://app.example.fi", "", ""},
		{"listed origin", listed, "/xapi/statements", "https://app.example.fi", "https://app.example.fi", "true"},
		{"unlisted origin", listed, "/xapi/statements", "https://evil.example", "", ""},
		{"null origin", listed, "/xapi/about", "null", "", ""},
		{"listed origin, admin", listed, "/admin/tenants", "https://app.example.fi", "", ""},
	} {
		h := preflight(tc.srv, tc.path, tc.origin)
		if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", tc.name, got, tc.wantOrigin)
		}
		if got := h.Get("Access-Control-Allow-Credentials"); got != tc.creds {
			t.Errorf("%s: Access-Control-Allow-Credentials %q, want %q", tc.name, got, tc.creds)
		}
	}
}

// TestAdmin_NegativeLimits: -1 is "no limit"; any other negative limit is
// refused, naming the limit, instead of being taken as unlimited.
func TestAdmin_NegativeLimits(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo","limits":{"rate":-1}}`, http.StatusCreated)
	for _, body := range []string{`{"limits":{"rate":-5}}`, `{"limits":{"burst":-2}}`, `{"limits":{"bodyBytes":-100}}`, `{"limits":{"rate":-0.5}}`} {
		got, _, b := call(t, srv, "PATCH", "/admin/tenants/espoo", bearer, body)
		if got != http.StatusBadRequest || !strings.Contains(string(b), "limits:") {
			t.Errorf("PATCH %s: %d %s; want 400 naming the limit", body, got, b)
		}
	}
	if got, _, b := call(t, srv, "POST", "/admin/tenants/espoo/credentials", bearer, `{"scopes":["all"],"limits":{"batch":-3}}`); got != http.StatusBadRequest {
		t.Errorf("credential with batch -3: %d %s; want 400", got, b)
	}
}

// TestLogin_HolderNeverLockedOut: failures of others from the holder's
// address, on other keys and on the holder's own key, never turn away the
// holder of the secret, generated (SHA-256) or chosen (bcrypt), even one
// not verified since the start.
func TestLogin_HolderNeverLockedOut(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lrs.Bootstrap(t.Context(), store, lrs.BootstrapCredential{Key: "chosen", Secret: "a chosen secret"}, now); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, Now: func() time.Time { return now },
		LoginPause: time.Millisecond})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	generated := mustCreateCredential(t, srv, lrs.DefaultTenant, `{"scopes":["all"]}`)
	for _, good := range []string{generated, "chosen:a chosen secret"} {
		key := strings.Split(good, ":")[0]
		for i := range 60 {
			call(t, srv, "GET", "/xapi/statements", fmt.Sprintf("guessed-key-%d:guess", i), "")
		}
		for range 8 {
			call(t, srv, "GET", "/xapi/statements", key+":guess", "")
		}
		if got, h, _ := call(t, srv, "GET", "/xapi/statements", key+":guess", ""); got != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("%s: guess after the failures from this address: %d, want 429 with Retry-After", key, got)
		}
		mustCall(t, srv, "GET", "/xapi/statements", good, "", http.StatusOK)
	}
}

// TestCORS_TenantOrigins: an origin a tenant lists gets credentials for
// that tenant's credentials only; the preflight, which carries none,
// allows it.
func TestCORS_TenantOrigins(t *testing.T) {
	srv := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"espoo"}`, http.StatusCreated)
	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"vantaa"}`, http.StatusCreated)
	b := mustCall(t, srv, "PATCH", "/admin/tenants/espoo", bearer, `{"corsOrigins":["https://Oppimateriaali.Espoo.example/"]}`, http.StatusOK)
	if !strings.Contains(string(b), `"corsOrigins":["https://oppimateriaali.espoo.example"]`) {
		t.Errorf("tenant after PATCH: %s", b)
	}
	if got, _, b := call(t, srv, "PATCH", "/admin/tenants/espoo", bearer, `{"corsOrigins":["oppimateriaali.espoo.example"]}`); got != http.StatusBadRequest ||
		!strings.Contains(string(b), "corsOrigins") {
		t.Errorf("PATCH with a bad origin: %d %s, want 400 naming corsOrigins", got, b)
	}
	espoo := mustCreateCredential(t, srv, "espoo", `{"scopes":["all"]}`)
	vantaa := mustCreateCredential(t, srv, "vantaa", `{"scopes":["all"]}`)
	const origin = "https://oppimateriaali.espoo.example"
	request := func(method, auth string) http.Header {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/xapi/statements", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "GET")
		}
		if k, s, ok := strings.Cut(auth, ":"); ok {
			req.SetBasicAuth(k, s)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	for _, tc := range []struct {
		name, method, auth string
		wantOrigin, creds  string
	}{
		{"preflight", "OPTIONS", "", origin, "true"},
		{"the tenant's credential", "GET", espoo, origin, "true"},
		{"another tenant's credential", "GET", vantaa, "*", ""},
	} {
		h := request(tc.method, tc.auth)
		if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", tc.name, got, tc.wantOrigin)
		}
		if got := h.Get("Access-Control-Allow-Credentials"); got != tc.creds {
			t.Errorf("%s: Access-Control-Allow-Credentials %q, want %q", tc.name, got, tc.creds)
		}
	}
}
