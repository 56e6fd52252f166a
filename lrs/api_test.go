package lrs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements/sqlitestore"
)

const (
	testKey    = "test-key"
	testSecret = "test-secret"
)

// MustOpenServer starts an LRS on a fresh embedded store.
func MustOpenServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: store})))
	tb.Cleanup(func() { srv.Close(); store.Close() })
	return srv
}

// scenario is one request and what its response must be.
type scenario struct {
	name       string
	method     string
	path       string
	headers    map[string]string // nil: version 1.0.3 and the test credential
	body       string
	wantStatus int
	wantBody   []string // substrings of the body
	wantHeader map[string]string
}

func (sc scenario) run(t *testing.T, srv *httptest.Server) *http.Response {
	t.Helper()
	req, err := http.NewRequest(sc.method, srv.URL+sc.path, strings.NewReader(sc.body))
	if err != nil {
		t.Fatal(err)
	}
	if sc.headers == nil {
		sc.headers = map[string]string{"X-Experience-API-Version": "1.0.3"}
		req.SetBasicAuth(testKey, testSecret)
	}
	for k, v := range sc.headers {
		if k == "auth" {
			k2, s2, _ := strings.Cut(v, ":")
			req.SetBasicAuth(k2, s2)
			continue
		}
		req.Header.Set(k, v)
	}
	if sc.body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := resp.StatusCode, sc.wantStatus; got != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", sc.method, sc.path, got, want, b)
	}
	for _, w := range sc.wantBody {
		if !strings.Contains(string(b), w) {
			t.Errorf("%s %s: body %s does not contain %q", sc.method, sc.path, b, w)
		}
	}
	for k, w := range sc.wantHeader {
		if got := resp.Header.Get(k); got != w {
			t.Errorf("%s %s: header %s = %q, want %q", sc.method, sc.path, k, got, w)
		}
	}
	return resp
}

const stmt1 = `{"id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee","actor":{"mbox":"mailto:learner@example.fi"},
 "verb":{"id":"http://adlnet.gov/expapi/verbs/completed","display":{"en-US":"completed","fi":"suoritti"}},
 "object":{"id":"http://example.fi/activities/1","definition":{"name":{"en-US":"One","fi":"Yksi"}}}}`

func v(version string) map[string]string {
	return map[string]string{"X-Experience-API-Version": version, "auth": testKey + ":" + testSecret}
}

func TestAPI(t *testing.T) {
	srv := MustOpenServer(t)
	scenarios := []scenario{
		{name: "about needs no credential", method: "GET", path: "/xapi/about", headers: map[string]string{},
			wantStatus: 200, wantBody: []string{`"1.0.3"`, `"2.0.0"`}},
		{name: "missing version header", method: "GET", path: "/xapi/statements", headers: map[string]string{"auth": testKey + ":" + testSecret},
			wantStatus: 400, wantBody: []string{"X-Experience-API-Version"}},
		{name: "unsupported version", method: "GET", path: "/xapi/statements", headers: v("0.95"),
			wantStatus: 400, wantBody: []string{"not supported"}},
		{name: "missing credential", method: "GET", path: "/xapi/statements", headers: map[string]string{"X-Experience-API-Version": "1.0.3"},
			wantStatus: 401},
		{name: "wrong secret", method: "GET", path: "/xapi/statements", headers: map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":nope"},
			wantStatus: 401},
		{name: "put", method: "PUT", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", body: stmt1,
			wantStatus: 204, wantHeader: map[string]string{"X-Experience-API-Version": "1.0.3"}},
		{name: "put same again", method: "PUT", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", body: stmt1,
			wantStatus: 204},
		{name: "put different content same id", method: "PUT", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
			body: strings.Replace(stmt1, "completed\"", "attempted\"", 1), wantStatus: 409},
		{name: "put id mismatch", method: "PUT", path: "/xapi/statements?statementId=11111111-3ef0-4ed3-8b37-7f3964730bee", body: stmt1,
			wantStatus: 400, wantBody: []string{"statementId"}},
		{name: "put without id", method: "PUT", path: "/xapi/statements", body: stmt1, wantStatus: 400, wantBody: []string{"statementId: required"}},
		{name: "invalid mbox names the path", method: "POST", path: "/xapi/statements",
			body:       `{"actor":{"mbox":"learner@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/a"}}`,
			wantStatus: 400, wantBody: []string{"/actor/mbox"}},
		{name: "get one", method: "GET", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
			wantStatus: 200, wantBody: []string{`"stored":"`, `"authority":`, `"version":"1.0.0"`, `"timestamp":"`}},
		{name: "get unknown", method: "GET", path: "/xapi/statements?statementId=00000000-0000-4000-8000-000000000000", wantStatus: 404},
		{name: "statementId with filter", method: "GET", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee&verb=http://x.fi/v",
			wantStatus: 400, wantBody: []string{"verb: not allowed with statementId"}},
		{name: "unknown parameter", method: "GET", path: "/xapi/statements?colour=red", wantStatus: 400, wantBody: []string{"colour: unknown parameter"}},
		{name: "format ids", method: "GET", path: "/xapi/statements?format=ids&statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
			wantStatus: 200, wantBody: []string{`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"}`, `"object":{"id":"http://example.fi/activities/1"}`}},
		{name: "format canonical", method: "GET", path: "/xapi/statements?format=canonical&statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
			headers:    map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret, "Accept-Language": "fi, en;q=0.5"},
			wantStatus: 200, wantBody: []string{`"display":{"fi":"suoritti"}`, `"name":{"fi":"Yksi"}`}},
		{name: "bad format", method: "GET", path: "/xapi/statements?format=full", wantStatus: 400, wantBody: []string{"format"}},
		{name: "query by agent", method: "GET", path: "/xapi/statements?agent=" + url.QueryEscape(`{"mbox":"mailto:learner@example.fi"}`),
			wantStatus: 200, wantBody: []string{"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}},
		{name: "query by bad agent", method: "GET", path: "/xapi/statements?agent=" + url.QueryEscape(`{"name":"x"}`),
			wantStatus: 400, wantBody: []string{"agent"}},
		{name: "2.0 sets Last-Modified", method: "GET", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
			headers: v("2.0.0"), wantStatus: 200, wantHeader: map[string]string{"X-Experience-API-Version": "2.0.0"}},
		{name: "cors preflight", method: "OPTIONS", path: "/xapi/statements",
			headers:    map[string]string{"Origin": "https://app.example.fi", "Access-Control-Request-Method": "POST"},
			wantStatus: 204, wantHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
		{name: "multipart not yet", method: "POST", path: "/xapi/statements",
			headers: map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret, "Content-Type": "multipart/mixed; boundary=x"},
			body:    "--x--", wantStatus: 400, wantBody: []string{"multipart/mixed"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv) })
	}
}

func TestAPI_PostBatchAllOrNothing(t *testing.T) {
	srv := MustOpenServer(t)
	good := `{"id":"aaaaaaaa-3ef0-4ed3-8b37-7f3964730bee","actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/a"}}`
	bad := `{"actor":{"mbox":"mailto:a@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"http://example.fi/a"},"result":{"score":{"scaled":2}}}`
	scenario{method: "POST", path: "/xapi/statements", body: "[" + good + "," + bad + "]", wantStatus: 400, wantBody: []string{"/1/result/score/scaled"}}.run(t, srv)
	scenario{method: "GET", path: "/xapi/statements?statementId=aaaaaaaa-3ef0-4ed3-8b37-7f3964730bee", wantStatus: 404}.run(t, srv)

	scenario{method: "POST", path: "/xapi/statements", body: "[" + good + "]", wantStatus: 200, wantBody: []string{`["aaaaaaaa-3ef0-4ed3-8b37-7f3964730bee"]`}}.run(t, srv)
	other := strings.Replace(good, "aaaaaaaa", "bbbbbbbb", 1)
	conflicting := strings.Replace(good, "/a\"", "/changed\"", 1)
	scenario{method: "POST", path: "/xapi/statements", body: "[" + other + "," + conflicting + "]", wantStatus: 409}.run(t, srv)
	scenario{method: "GET", path: "/xapi/statements?statementId=bbbbbbbb-3ef0-4ed3-8b37-7f3964730bee", wantStatus: 404}.run(t, srv)
}

func TestAPI_MorePaging(t *testing.T) {
	srv := MustOpenServer(t)
	var batch []string
	for i := 0; i < 25; i++ {
		batch = append(batch, `{"actor":{"mbox":"mailto:pager@example.fi"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"http://example.fi/page"}}`)
	}
	scenario{method: "POST", path: "/xapi/statements", body: "[" + strings.Join(batch, ",") + "]", wantStatus: 200}.run(t, srv)

	seen := map[string]bool{}
	next := "/xapi/statements?limit=10&verb=" + url.QueryEscape("http://adlnet.gov/expapi/verbs/experienced")
	pages := 0
	for next != "" {
		req, _ := http.NewRequest("GET", srv.URL+next, nil)
		req.SetBasicAuth(testKey, testSecret)
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Statements []struct{ ID string }
			More       string
		}
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Experience-API-Consistent-Through") == "" {
			t.Error("no X-Experience-API-Consistent-Through")
		}
		for _, s := range res.Statements {
			if seen[s.ID] {
				t.Fatalf("statement %s returned twice", s.ID)
			}
			seen[s.ID] = true
		}
		if pages == 0 {
			// A statement stored while paging comes after the first page
			// in descending order: it must not appear in later pages.
			scenario{method: "POST", path: "/xapi/statements", body: batch[0], wantStatus: 200}.run(t, srv)
		}
		next = res.More
		pages++
	}
	if got, want := len(seen), 25; got != want {
		t.Errorf("paged through %d statements, want %d", got, want)
	}
	if got, want := pages, 3; got != want {
		t.Errorf("%d pages, want %d", got, want)
	}
}

func TestAPI_AlternateRequestSyntax(t *testing.T) {
	srv := MustOpenServer(t)
	form := url.Values{
		"X-Experience-API-Version": {"1.0.3"},
		"Authorization":            {"Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ="},
		"Content-Type":             {"application/json"},
		"statementId":              {"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
		"content":                  {stmt1},
	}
	alt := func(f url.Values) scenario {
		return scenario{method: "POST", path: "/xapi/statements?method=PUT", body: f.Encode(),
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
	}
	sc := alt(form)
	sc.wantStatus = 204
	sc.run(t, srv)
	scenario{method: "GET", path: "/xapi/statements?statementId=6690e6c9-3ef0-4ed3-8b37-7f3964730bee", wantStatus: 200}.run(t, srv)

	form.Set("X-Experience-API-Version", "2.0.0")
	sc = alt(form)
	sc.wantStatus, sc.wantBody = 400, []string{"alternate request syntax"}
	sc.run(t, srv)
}

// countingReader counts the bytes read of a request body.
type countingReader struct {
	n, size int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n >= r.size {
		return 0, io.EOF
	}
	k := min(len(p), r.size-r.n)
	for i := range k {
		p[i] = 'a'
	}
	r.n += k
	return k, nil
}

// TestAPI_AlternateFormBounded: a form is read only on the resources that
// take the alternate syntax, and never past its small cap.
func TestAPI_AlternateFormBounded(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := lrs.New(lrs.Config{Store: store})
	for _, tc := range []struct {
		path       string
		size       int
		wantStatus int
		maxRead    int
	}{
		{"/healthz?method=GET", 8 << 20, http.StatusMethodNotAllowed, 0},
		{"/nowhere?method=GET", 8 << 20, http.StatusNotFound, 0},
		{"/admin/tenants?method=GET", 8 << 20, http.StatusNotFound, 0},
		{"/xapi/statements?method=GET", 8 << 20, http.StatusRequestEntityTooLarge, 1<<20 + 1},
		{"/xapi/statements?method=GET", 100, http.StatusBadRequest, 100},
	} {
		body := &countingReader{size: tc.size}
		req := httptest.NewRequest("POST", tc.path, body)
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.wantStatus || body.n > tc.maxRead {
			t.Errorf("POST %s with %d bytes: %d after reading %d bytes; want %d after at most %d", tc.path, tc.size, rec.Code, body.n, tc.wantStatus, tc.maxRead)
		}
		var eb struct{ Error string }
		json.Unmarshal(rec.Body.Bytes(), &eb)
		if strings.ContainsAny(eb.Error, " ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("POST %s: error code %q, want the codes' spelling", tc.path, eb.Error)
		}
	}
}

func TestAPI_BodyTooLarge(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lrs.Bootstrap(ctx, store, lrs.BootstrapCredential{Key: testKey, Secret: testSecret}, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withContract(t, lrs.New(lrs.Config{Store: store, MaxBodyBytes: 1024})))
	t.Cleanup(func() { srv.Close(); store.Close() })
	big := strings.Replace(stmt1, `"One"`, `"`+strings.Repeat("x", 2000)+`"`, 1)
	scenario{method: "POST", path: "/xapi/statements", body: big, wantStatus: 413, wantBody: []string{"larger than 1024 bytes"}}.run(t, srv)
	scenario{method: "PUT", path: "/xapi/activities/profile?activityId=http://x.fi/a&profileId=p", body: big, wantStatus: 413}.run(t, srv)
}
