package lrs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/lrs/lrstest"
	"github.com/digione/lrs/lrs/ui"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/validation/profile/digione"
)

// mustOpenPageServer serves the LRS with the admin API over a new store,
// without the contract check of the JSON API: the pages are HTML.
func mustOpenPageServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	store, err := sqlitestore.New(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, LoginPause: 10 * time.Millisecond}))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// vendorPage GETs path with the HTTP Basic credential "key:secret" (""
// for none) and returns the answer and its body.
func vendorPage(tb testing.TB, srv *httptest.Server, path, cred string) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if k, s, ok := strings.Cut(cred, ":"); ok {
		req.SetBasicAuth(k, s)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestSandboxPage: the vendor page asks the browser for the sandbox
// credential, refuses any other credential, and shows the sandbox's
// endpoint, test data, the report with a rejection named by its rule,
// and the gradebook's dry run, in the language asked for.
func TestSandboxPage(t *testing.T) {
	srv := mustOpenPageServer(t)
	var sb lrs.SandboxJSON
	if err := json.Unmarshal(mustCall(t, srv, "POST", "/admin/sandboxes", bearer, `{"vendor":"acme","xapiVersion":"2.0.0"}`, http.StatusCreated), &sb); err != nil {
		t.Fatal(err)
	}
	cred := sb.Credentials[0].Key + ":" + sb.Credentials[0].Secret
	learner, li := sb.School.Learners[0], sb.School.LineItems[0]
	const good, bad, stranger = "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f01", "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f02", "6c0e8a52-3f0e-4d7b-9a47-0b1d2c3e4f03"
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(good, learner, li, 7, nil), http.StatusOK)
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(bad, learner, li, 7, func(s string) string {
		return strings.Replace(s, `,"max":10`, ``, 1)
	}), http.StatusBadRequest)
	mustCall(t, srv, "POST", "/xapi/statements", cred, lrstest.SandboxStatement(stranger, learner, li, 5, func(s string) string {
		return strings.Replace(s, learner.Account.Name, "MPASSOID.someone-else", 1)
	}), http.StatusOK)

	mustCall(t, srv, "POST", "/admin/tenants", bearer, `{"id":"koulu"}`, http.StatusCreated)
	other := mustCreateCredential(t, srv, "koulu", `{"scopes":["all"]}`)

	headers := func(t *testing.T, res *http.Response) {
		t.Helper()
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", res.Header)
		}
		if len(res.Cookies()) != 0 && res.Cookies()[0].Name != "lrs_lang" {
			t.Errorf("cookies %v, want none but the language", res.Cookies())
		}
	}

	t.Run("Unauthorized", func(t *testing.T) {
		for _, c := range []string{"", sb.Credentials[0].Key + ":wrong"} {
			res, body := vendorPage(t, srv, "/ui/sandbox?lang=en", c)
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="DigiOne LRS sandbox", charset="UTF-8"` {
				t.Errorf("%q: %d %q, want 401 with the Basic challenge", c, res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if !strings.Contains(body, "Sign in with the sandbox credential") || strings.Contains(body, learner.Account.Name) {
				t.Errorf("%q: body %s", c, body)
			}
			headers(t, res)
		}
	})
	t.Run("Forbidden", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?lang=en", other)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "only for a sandbox credential") || strings.Contains(body, learner.Account.Name) {
			t.Errorf("a school's credential: %d %s, want 403 saying the page is for a sandbox credential", res.StatusCode, body)
		}
		headers(t, res)
	})
	t.Run("BadSince", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?lang=en&since=yesterday", cred)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "since: the day must be a date") {
			t.Errorf("since=yesterday: %d %s, want 400 naming since", res.StatusCode, body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?lang=en&since=2020-01-01", cred)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		headers(t, res)
		for _, want := range []string{
			`<html lang="en">`, "Sandbox: acme",
			`<code id="sandbox-endpoint">` + srv.URL + `/xapi/</code>`,
			`<code id="sandbox-oneroster-token">` + srv.URL + `/sandbox/oneroster/token</code>`,
			`<code id="sandbox-oneroster-gradebook">` + srv.URL + `/sandbox/oneroster/ims/oneroster/gradebook/v1p2</code>`,
			"strict: a statement that breaks a rule is rejected", `<dd id="sandbox-version">2.0.0</dd>`,
			learner.Account.Name, learner.LearnerNumber, li.SourcedID, li.Activity,
			"statements accepted: 2; rejected and flagged by rule",
			`<tr data-kind="rejected"><th scope="row">Rejected</th>`, digione.Template("scored"),
			"rule 8: <code>$.result.score selector $.scaled | $.max</code>", bad,
			"results that would be written: 1", good, "Testi Oppilas 1",
			"Unknown student: the actor is not the account of a learner", stranger,
			`<th scope="col">Score</th>`, "<caption>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		noKeys(t, body)
	})
	t.Run("Stylesheet", func(t *testing.T) {
		// Without the MPASSid pages, the vendor page serves the assets.
		if res, body := vendorPage(t, srv, "/ui/static/ui.css", ""); res.StatusCode != http.StatusOK || !strings.Contains(body, "#sandbox-connect") {
			t.Errorf("/ui/static/ui.css: %d", res.StatusCode)
		}
	})
	t.Run("Swedish", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?lang=sv&since=2020-01-01", cred)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<html lang="sv">`) || !strings.Contains(body, "Sandlåda: acme") ||
			!strings.Contains(body, "Avvisad") || !strings.Contains(body, "regel 8:") || !strings.Contains(body, "Provkörning av bedömningsboken") {
			t.Errorf("lang=sv: %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, "Rejected") {
			t.Errorf("lang=sv shows English: %s", body)
		}
		noKeys(t, body)
	})
	t.Run("SlowDown", func(t *testing.T) {
		// Wrong secrets are slowed down as on the xAPI API; the holder
		// of the secret still gets in.
		var res *http.Response
		var body string
		for range 8 {
			res, body = vendorPage(t, srv, "/ui/sandbox?lang=en", sb.Credentials[0].Key+":not-the-secret")
		}
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed attempts") {
			t.Errorf("the 8th wrong secret: %d Retry-After %q %s, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		if res, _ := vendorPage(t, srv, "/ui/sandbox?lang=en", cred); res.StatusCode != http.StatusOK {
			t.Errorf("the right secret after wrong ones: %d, want 200", res.StatusCode)
		}
	})
	t.Run("Finnish", func(t *testing.T) {
		res, body := vendorPage(t, srv, "/ui/sandbox?since=2020-01-01", cred)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<html lang="fi">`) || !strings.Contains(body, "Hylätty") || !strings.Contains(body, "sääntö 8:") {
			t.Errorf("default language: %d %s", res.StatusCode, body)
		}
	})
}

// noKeys fails when body shows a key of the catalog rather than its text.
func noKeys(t *testing.T, body string) {
	t.Helper()
	cat, err := ui.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for key := range cat["en"] {
		if strings.Contains(body, ">"+key+"<") || strings.Contains(body, key+" ") {
			t.Errorf("page shows the catalog key %q", key)
		}
	}
}
