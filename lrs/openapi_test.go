package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/digione/lrs/lrs"
	peoplerule "github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/lrs/signin"
	"github.com/digione/lrs/statements/sqlitestore"
)

// contract is the OpenAPI document, loaded once, and the operations the
// tests have exercised through withContract.
var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu      sync.Mutex
	checked map[string]int // "METHOD /path" → responses validated
}

func loadContract() (*openapi3.T, routers.Router, error) {
	contract.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(lrs.OpenAPIJSON())
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			contract.err = err
			return
		}
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
		contract.checked = map[string]int{}
	})
	return contract.doc, contract.router, contract.err
}

// withContract wraps h so that every request it serves, and its response,
// is checked against the OpenAPI document; a violation fails tb.
// Requests that are answered 4xx are the tests' deliberate bad input: of
// them only the response is checked (its status must be documented for the
// operation and its body be the error body). OPTIONS (CORS preflight) is
// answered by middleware before routing and is not in the document.
func withContract(tb testing.TB, h http.Handler) http.Handler {
	tb.Helper()
	doc, router, err := loadContract()
	if err != nil {
		tb.Fatalf("openapi.yaml: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			h.ServeHTTP(w, r)
			return
		}
		// The request body is kept as the handler reads it, so that the
		// check changes nothing of how much of it the LRS reads; a body
		// not read to its end, or over contractMaxBody, is not checked.
		tee := &teeBody{ReadCloser: r.Body}
		if r.Body != nil {
			r.Body = tee
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		body, whole := tee.buf.Bytes(), tee.eof && !tee.big
		if v := checkContract(doc, router, r, body, !whole, rec); v != "" {
			tb.Errorf("openapi contract: %s %s → %d: %s", r.Method, r.URL.RequestURI(), rec.status, v)
		}
	})
}

// checkContract returns what is wrong with the exchange, or "".
func checkContract(doc *openapi3.T, router routers.Router, r *http.Request, body []byte, partBody bool, rec *recorder) string {
	status := rec.status
	if status == 499 { // the client went away; nothing was answered
		return ""
	}
	req := r.Clone(context.Background())
	req.URL.Scheme, req.URL.Host = "http", r.Host
	req.Body = io.NopCloser(bytes.NewReader(body))
	alternate := r.Method == http.MethodPost && r.URL.Query().Has("method")
	if alternate { // the xAPI 1.0.3 alternate request syntax: checked as the request it stands for
		req.Method = strings.ToUpper(r.URL.Query().Get("method"))
	}
	isJSON := func(ct string) bool {
		mt, _, _ := mime.ParseMediaType(ct)
		return mt == "application/json"
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if status < 400 || status >= 500 {
			return fmt.Sprintf("no documented operation: %v", err)
		}
		if r.Method == http.MethodHead || rec.big || !isJSON(rec.Header().Get("Content-Type")) {
			return "an error answered without the JSON error body"
		}
		var v any
		if err := json.Unmarshal(rec.body.Bytes(), &v); err != nil {
			return "error body: " + err.Error()
		}
		if err := doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
			return "error body: " + err.Error()
		}
		return ""
	}
	contract.mu.Lock()
	contract.checked[req.Method+" "+route.Path]++
	contract.mu.Unlock()

	opts := &openapi3filter.Options{
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		ExcludeRequestBody: !isJSON(r.Header.Get("Content-Type")) || len(body) == 0 || partBody,
		MultiError:         true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if status < 400 && !alternate {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return "request: " + err.Error()
		}
	}
	ropts := *opts
	ropts.IncludeResponseStatus = true
	ropts.ExcludeResponseBody = req.Method == http.MethodHead || rec.body.Len() == 0 || rec.big || !isJSON(rec.Header().Get("Content-Type"))
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status,
		Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Options: &ropts}
	if ropts.ExcludeResponseBody {
		// Without a body only the status is checked: kin-openapi would
		// otherwise also check the Content-Type a HEAD or 304 still carries.
		if route.Operation.Responses.Status(status) == nil {
			return fmt.Sprintf("response: status %d is not documented", status)
		}
		return ""
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return "response: " + err.Error()
	}
	return ""
}

// recorder passes a response through and keeps its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
	big    bool // the body was over contractMaxBody and is not kept
}

// contractMaxBody is the most of a request or response body the contract
// check keeps.
const contractMaxBody = 1 << 20

// teeBody is a request body that keeps what is read of it, up to
// contractMaxBody.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
	eof bool // read to its end
	big bool // over contractMaxBody; buf is dropped
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if !b.big {
		b.buf.Write(p[:n])
		if b.big = b.buf.Len() > contractMaxBody; b.big {
			b.buf = bytes.Buffer{}
		}
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (w *recorder) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	if !w.big {
		w.body.Write(b)
		if w.big = w.body.Len() > contractMaxBody; w.big {
			w.body = bytes.Buffer{}
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestMain runs the tests, then, when all of them ran, fails if an
// operation of the OpenAPI document was never exercised through
// withContract.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" && contract.doc != nil {
		var missed []string
		n := 0
		for path, item := range contract.doc.Paths.Map() {
			for method := range item.Operations() {
				n++
				if contract.checked[method+" "+path] == 0 {
					missed = append(missed, method+" "+path)
				}
			}
		}
		sort.Strings(missed)
		if len(missed) > 0 {
			fmt.Printf("openapi contract: %d of %d operations never exercised: %s\n", len(missed), n, strings.Join(missed, ", "))
			code = 1
		} else if testing.Verbose() {
			exchanges := 0
			for _, c := range contract.checked {
				exchanges += c
			}
			fmt.Printf("openapi contract: all %d operations exercised, %d exchanges checked\n", n, exchanges)
		}
	}
	os.Exit(code)
}

var ginParam = regexp.MustCompile(`:([A-Za-z]+)`)

// TestOpenAPI_Routes checks that the document and the route table agree:
// every route but the pages under /ui/ is documented and every documented
// operation is a route.
func TestOpenAPI_Routes(t *testing.T) {
	doc, _, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// Internal puts /metrics and /admin/ on a handler of their own; Routes
	// names the routes of both.
	people, err := signin.New(signin.Config{Issuer: "http://127.0.0.1:1", ClientID: "lrs", ClientSecret: "x", PublicURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	srv := lrs.New(lrs.Config{Store: store, Admin: store, AdminToken: adminToken, Internal: true, People: people,
		PeopleAPI: &lrs.PeopleAPI{Rule: &peoplerule.Rule{Roster: store}, Agents: mpassAgents{}}})
	routes := map[string]bool{}
	for _, r := range srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if strings.HasPrefix(path, "/ui/") {
			// Pages for people's browsers, not operations of the API.
			continue
		}
		routes[method+" "+ginParam.ReplaceAllString(path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for d := range documented {
		if !routes[d] {
			t.Errorf("openapi.yaml documents %s, which is no route", d)
		}
	}
}

// TestOpenAPI_Served checks GET /openapi.json.
func TestOpenAPI_Served(t *testing.T) {
	srv := MustOpenServer(t)
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if got, want := resp.StatusCode, 200; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if got, want := doc.OpenAPI, "3.1.0"; got != want {
		t.Errorf("openapi %q, want %q", got, want)
	}
	if _, ok := doc.Paths["/xapi/statements"]; !ok {
		t.Errorf("paths lack /xapi/statements")
	}
}

// TestOpenAPI_Operations exercises, through the contract check, the
// operations no other test reaches.
func TestOpenAPI_Operations(t *testing.T) {
	srv := mustOpenDocServer(t)
	agent := url.QueryEscape(`{"mbox":"mailto:learner@example.fi"}`)
	activity := url.QueryEscape("http://example.fi/activities/1")
	create := map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret, "If-None-Match": "*"}
	scenarios := []scenario{
		{name: "head about", method: "HEAD", path: "/xapi/about", headers: map[string]string{}, wantStatus: 200},
		{name: "put agent profile", method: "PUT", path: "/xapi/agents/profile?profileId=p&agent=" + agent,
			headers: create, body: `{"a":1}`, wantStatus: 204},
		{name: "head agent profile", method: "HEAD", path: "/xapi/agents/profile?profileId=p&agent=" + agent, wantStatus: 200},
		{name: "delete agent profile", method: "DELETE", path: "/xapi/agents/profile?profileId=p&agent=" + agent, wantStatus: 204},
		{name: "put activity profile", method: "PUT", path: "/xapi/activities/profile?profileId=p&activityId=" + activity,
			headers: create, body: `{"a":1}`, wantStatus: 204},
		{name: "head activity profile", method: "HEAD", path: "/xapi/activities/profile?profileId=p&activityId=" + activity, wantStatus: 200},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, srv) })
	}

	admin := mustOpenAdminServer(t, lrs.Config{})
	mustCall(t, admin, "POST", "/admin/tenants", "Bearer "+adminToken, `{"id":"espoo","name":"Espoon kaupunki"}`, 201)
	if b := mustCall(t, admin, "GET", "/admin/tenants/espoo", "Bearer "+adminToken, "", 200); !strings.Contains(string(b), `"espoo"`) {
		t.Errorf("GET /admin/tenants/espoo: %s", b)
	}
}
