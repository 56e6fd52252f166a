package lrs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/storetrace"
)

// The learner of the traced statements: no span may name them.
const (
	tracedMbox    = "mailto:pupil-4b1d@example.fi"
	tracedAccount = "mpass-oid-91c2e7"
)

// mustOpenTracedServer starts an LRS that records its spans, on a traced
// embedded store (wrap, when given, wraps the store first), logging to log.
func mustOpenTracedServer(tb testing.TB, wrap func(statements.Store) statements.Store, log zerolog.Logger) (*httptest.Server, *tracetest.InMemoryExporter) {
	tb.Helper()
	var store statements.Store = mustBootstrapped(tb)
	if wrap != nil {
		store = wrap(store)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tb.Cleanup(func() { tp.Shutdown(tb.Context()) })
	traced := storetrace.New(store, tp, "sqlite")
	srv := httptest.NewServer(withContract(tb, lrs.New(lrs.Config{Store: traced, Admin: traced, TracerProvider: tp, Logger: log})))
	tb.Cleanup(srv.Close)
	return srv, exp
}

func spanAttrs(s tracetest.SpanStub) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

// findSpan returns the one span named name.
func findSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("%d spans named %q, want 1; spans: %v", len(found), name, names)
	}
	return found[0]
}

// noLearner fails when a span's name or attribute names the learner.
func noLearner(t *testing.T, spans tracetest.SpanStubs) {
	t.Helper()
	for _, s := range spans {
		for _, kv := range append(s.Attributes, s.Resource.Attributes()...) {
			v := kv.Value.Emit()
			if strings.Contains(v, "pupil-4b1d") || strings.Contains(v, tracedAccount) {
				t.Errorf("span %s: attribute %s = %q names the learner", s.Name, kv.Key, v)
			}
		}
		if strings.Contains(s.Name, "pupil") || strings.Contains(s.Name, tracedAccount) {
			t.Errorf("span %q names the learner", s.Name)
		}
	}
}

// TestServer_Traces: a request is one server span named for its route,
// with the HTTP conventions' attributes, the tenant and the credential;
// the store's spans are its children; a client's traceparent is continued;
// no span names the learner.
func TestServer_Traces(t *testing.T) {
	const (
		clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		clientSpan  = "00f067aa0ba902b7"
	)
	body := `[{"actor":{"mbox":"` + tracedMbox + `"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://example.fi/course/1"}},` +
		`{"actor":{"account":{"homePage":"https://mpass-proxy.csc.fi","name":"` + tracedAccount + `"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://example.fi/course/1"}}]`

	t.Run("PostStatements", func(t *testing.T) {
		var logs bytes.Buffer
		srv, exp := mustOpenTracedServer(t, nil, zerolog.New(&logs))
		sc := scenario{method: "POST", path: "/xapi/statements", body: body, wantStatus: http.StatusOK,
			headers: map[string]string{"X-Experience-API-Version": "1.0.3", "auth": testKey + ":" + testSecret,
				"traceparent": "00-" + clientTrace + "-" + clientSpan + "-01"}}
		sc.run(t, srv)

		spans := exp.GetSpans()
		req := findSpan(t, spans, "POST /xapi/statements")
		if got := req.SpanKind; got != trace.SpanKindServer {
			t.Errorf("kind %v, want server", got)
		}
		a := spanAttrs(req)
		for k, want := range map[attribute.Key]string{
			"http.request.method": "POST", "http.route": "/xapi/statements", "http.response.status_code": "200",
			"url.scheme": "http", "lrs.tenant.id": "default", "lrs.credential.key": testKey, "lrs.xapi.version": "1.0.3",
		} {
			if got := a[k]; got != want {
				t.Errorf("attribute %s = %q, want %q", k, got, want)
			}
		}
		if a["lrs.request.id"] == "" {
			t.Errorf("no lrs.request.id")
		}
		for _, k := range []attribute.Key{"url.path", "url.query", "url.full", "client.address", "user_agent.original"} {
			if v, ok := a[k]; ok {
				t.Errorf("attribute %s = %q recorded", k, v)
			}
		}
		// The client's trace goes on.
		if got := req.SpanContext.TraceID().String(); got != clientTrace {
			t.Errorf("trace id %s, want the client's %s", got, clientTrace)
		}
		if got := req.Parent.SpanID().String(); got != clientSpan || !req.Parent.IsRemote() {
			t.Errorf("parent %s (remote %v), want the client's span %s", got, req.Parent.IsRemote(), clientSpan)
		}
		if got := req.Status.Code; got != codes.Unset {
			t.Errorf("status %v, want unset", got)
		}
		ins := findSpan(t, spans, "store.InsertStatements")
		if got, want := ins.Parent.SpanID(), req.SpanContext.SpanID(); got != want {
			t.Errorf("store.InsertStatements: parent %s, want the request's span %s", got, want)
		}
		if got := spanAttrs(ins)["lrs.store.records"]; got != "2" {
			t.Errorf("store.InsertStatements: lrs.store.records %q, want 2", got)
		}
		noLearner(t, spans)
		// The request's log line leads to its trace.
		var line struct {
			TraceID string `json:"trace_id"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil || line.TraceID != clientTrace {
			t.Errorf("log line %s: trace_id %q, want %s (%v)", logs.String(), line.TraceID, clientTrace, err)
		}
	})

	t.Run("GetStatements", func(t *testing.T) {
		srv, exp := mustOpenTracedServer(t, nil, zerolog.Nop())
		scenario{method: "POST", path: "/xapi/statements", body: body, wantStatus: http.StatusOK}.run(t, srv)
		exp.Reset()
		q := url.Values{"agent": {`{"mbox":"` + tracedMbox + `"}`}}
		scenario{method: "GET", path: "/xapi/statements?" + q.Encode(), wantStatus: http.StatusOK,
			wantBody: []string{"pupil-4b1d"}}.run(t, srv)

		spans := exp.GetSpans()
		req := findSpan(t, spans, "GET /xapi/statements")
		if req.Parent.IsValid() {
			t.Errorf("a request without traceparent has parent %s", req.Parent.SpanID())
		}
		qs := findSpan(t, spans, "store.QueryStatements")
		if got, want := qs.Parent.SpanID(), req.SpanContext.SpanID(); got != want {
			t.Errorf("store.QueryStatements: parent %s, want the request's span %s", got, want)
		}
		if got := spanAttrs(qs)["lrs.store.records"]; got != "1" {
			t.Errorf("store.QueryStatements: lrs.store.records %q, want 1", got)
		}
		noLearner(t, spans)
	})

	t.Run("ErrUnavailable", func(t *testing.T) {
		var full *fullStore
		srv, exp := mustOpenTracedServer(t, func(s statements.Store) statements.Store {
			full = &fullStore{Store: s}
			return full
		}, zerolog.Nop())
		full.full.Store(true)
		scenario{method: "POST", path: "/xapi/statements", body: body, wantStatus: http.StatusServiceUnavailable}.run(t, srv)
		spans := exp.GetSpans()
		req := findSpan(t, spans, "POST /xapi/statements")
		if got := req.Status.Code; got != codes.Error {
			t.Errorf("status %v, want error", got)
		}
		if got := spanAttrs(req)["error.type"]; got != statements.EUnavailable {
			t.Errorf("error.type %q, want %q", got, statements.EUnavailable)
		}
		if got := spanAttrs(findSpan(t, spans, "store.InsertStatements"))["lrs.error.code"]; got != statements.EUnavailable {
			t.Errorf("store span error code %q, want %q", got, statements.EUnavailable)
		}
		noLearner(t, spans)
	})

	t.Run("Unrouted", func(t *testing.T) {
		srv, exp := mustOpenTracedServer(t, nil, zerolog.Nop())
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			scenario{method: "GET", path: path, wantStatus: http.StatusOK}.run(t, srv)
		}
		if got := len(exp.GetSpans()); got != 0 {
			t.Errorf("probes made %d spans, want none", got)
		}
		scenario{method: "GET", path: "/xapi/nothing-here", wantStatus: http.StatusNotFound}.run(t, srv)
		req := findSpan(t, exp.GetSpans(), "GET")
		if _, ok := spanAttrs(req)["http.route"]; ok {
			t.Errorf("an unrouted request has an http.route")
		}
		if got := req.Status.Code; got != codes.Unset {
			t.Errorf("a 404 has status %v, want unset", got)
		}
	})
}

// BenchmarkServer_Tracing measures requests with tracing off (no
// TracerProvider: no middleware, no store wrapper) and on (every span
// recorded and batched as serve does, then dropped instead of sent): a
// POST of one statement (a store write, synced to disk) and GET
// /xapi/about (no store call: the cost of the request span alone).
func BenchmarkServer_Tracing(b *testing.B) {
	body := `{"actor":{"mbox":"` + tracedMbox + `"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://example.fi/course/1"}}`
	for _, route := range []struct{ name, method, path, body string }{
		{"PostStatement", http.MethodPost, "/xapi/statements", body},
		{"About", http.MethodGet, "/xapi/about", ""},
	} {
		for _, on := range []bool{false, true} {
			name := route.name + "/Off"
			if on {
				name = route.name + "/On"
			}
			b.Run(name, func(b *testing.B) {
				var store statements.Store = mustBootstrapped(b)
				cfg := lrs.Config{Store: store, Admin: store}
				if on {
					tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
					b.Cleanup(func() { tp.Shutdown(b.Context()) })
					traced := storetrace.New(store, tp, "sqlite")
					cfg = lrs.Config{Store: traced, Admin: traced, TracerProvider: tp}
				}
				h := lrs.New(cfg)
				for b.Loop() {
					req := httptest.NewRequest(route.method, route.path, strings.NewReader(route.body))
					req.SetBasicAuth(testKey, testSecret)
					req.Header.Set("X-Experience-API-Version", "1.0.3")
					if route.body != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}
