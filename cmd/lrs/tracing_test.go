package main

import (
	"compress/gzip"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/digione/lrs/lrs"
	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/mongostore"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetrace"
)

func TestParseServeConfig_OTLPEndpoint(t *testing.T) {
	t.Run("Flag", func(t *testing.T) {
		cfg, err := parseServeConfig([]string{"--otlp-endpoint", "http://collector:4318"}, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.OTLPEndpoint, "http://collector:4318"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("EnvironmentFallback", func(t *testing.T) {
		cfg, err := parseServeConfig(nil, env(map[string]string{"LRS_OTLP_ENDPOINT": "https://otel.example.fi"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.OTLPEndpoint, "https://otel.example.fi"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("DefaultOff", func(t *testing.T) {
		// The SDK's own variable does not turn traces on.
		cfg, err := parseServeConfig(nil, env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.OTLPEndpoint != "" {
			t.Errorf("got %q, want none", cfg.OTLPEndpoint)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, e := range []string{"collector:4318", "grpc://collector:4317", "http://", "http://c:4318/?x=1", "http://user:pw-7c1e@collector:4318"} {
			_, err := parseServeConfig(nil, env(map[string]string{"LRS_OTLP_ENDPOINT": e}), io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--otlp-endpoint") {
				t.Errorf("%q: err = %v, want an error naming --otlp-endpoint", e, err)
			} else if strings.Contains(err.Error(), "pw-7c1e") {
				t.Errorf("%q: the error quotes the password: %v", e, err)
			}
		}
	})
}

func TestTracesURL(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"http://collector:4318", "http://collector:4318/v1/traces"},
		{"http://collector:4318/", "http://collector:4318/v1/traces"},
		{"https://gw.example.fi/otlp", "https://gw.example.fi/otlp/v1/traces"},
		{"http://collector:4318/v1/traces", "http://collector:4318/v1/traces"},
	} {
		got, err := tracesURL(tc.endpoint)
		if err != nil || got != tc.want {
			t.Errorf("tracesURL(%q) = %q, %v; want %q", tc.endpoint, got, err, tc.want)
		}
	}
}

// otlpSpan is a span as an OTLP/HTTP receiver got it.
type otlpSpan struct {
	name, traceID, spanID, parentID string
	attrs, resource                 map[string]string
}

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes the protobuf
// ExportTraceServiceRequest a collector receives at /v1/traces.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []otlpSpan
	paths []string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var msg coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &msg)
		}
		if err != nil || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("OTLP receiver: %s %s (%s): %v", req.Method, req.URL.Path, req.Header.Get("Content-Type"), err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		for _, rs := range msg.ResourceSpans {
			res := kvs(rs.GetResource().GetAttributes())
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, otlpSpan{name: s.Name, traceID: hex.EncodeToString(s.TraceId),
						spanID: hex.EncodeToString(s.SpanId), parentID: hex.EncodeToString(s.ParentSpanId),
						attrs: kvs(s.Attributes), resource: res})
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func kvs(attrs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range attrs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = strconv.FormatInt(x.IntValue, 10)
		default:
			m[kv.Key] = v.String()
		}
	}
	return m
}

func (r *otlpReceiver) named(name string) []otlpSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []otlpSpan
	for _, s := range r.spans {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

// TestServe_Traces: `lrs serve --otlp-endpoint` sends its spans over
// OTLP/HTTP to a collector: the span of a POST of statements with the
// store's span as its child, and the Kafka sink's delivery span; the
// resource names the service and its version; no span names the learner.
// The spans still in the batch are sent at shutdown.
func TestServe_Traces(t *testing.T) {
	recv := startOTLPReceiver(t)
	c := startKafka(t)
	cfg, err := parseServeConfig([]string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "disabled",
		"--kafka-brokers", strings.Join(c.ListenAddrs(), ","), "--otlp-endpoint", recv.URL},
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	if _, ok := a.served.(interface{ Unwrap() statements.Store }); !ok {
		t.Fatalf("with --otlp-endpoint the served store is %T, want a storetrace wrapper", a.served)
	}
	if _, ok := a.served.(statements.Sizer); !ok {
		t.Errorf("with --otlp-endpoint the served store %T is no longer a statements.Sizer", a.served)
	}
	p := poster{base: "http://" + a.Addr(), key: "k", secret: "s3cret-s3cret"}
	if err := p.postRaw(string(learnerStatement("0b5e4f1c-7f62-4a55-9a0e-5f8f5d6d2e11", 7431, 1))); err != nil {
		t.Fatal(err)
	}
	cons := newConsumer(t, c.ListenAddrs())
	cons.waitFor(t, map[string]bool{"0b5e4f1c-7f62-4a55-9a0e-5f8f5d6d2e11": true}, 15*time.Second)
	a.stop() // flushes the batch

	posts := recv.named("POST /xapi/statements")
	if len(posts) != 1 {
		t.Fatalf("got %d spans of the POST, want 1", len(posts))
	}
	post := posts[0]
	for k, want := range map[string]string{"http.route": "/xapi/statements", "http.request.method": "POST",
		"lrs.tenant.id": lrs.DefaultTenant, "lrs.credential.key": "k"} {
		if got := post.attrs[k]; got != want {
			t.Errorf("POST span: %s = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"service.name": "digione-lrs", "service.version": lrs.ProductVersion()} {
		if got := post.resource[k]; got != want {
			t.Errorf("resource: %s = %q, want %q", k, got, want)
		}
	}
	var inserted bool
	for _, s := range recv.named("store.InsertStatements") {
		if s.parentID == post.spanID && s.traceID == post.traceID {
			inserted = true
			if got := s.attrs["db.system.name"]; got != "sqlite" {
				t.Errorf("store span: db.system.name %q, want sqlite", got)
			}
		}
	}
	if !inserted {
		t.Errorf("no store.InsertStatements span under the POST's span")
	}
	var delivered bool
	for _, s := range recv.named("sink.deliver") {
		if s.attrs["lrs.sink.name"] == "kafka:"+testTopic && s.attrs["lrs.sink.outcome"] == "delivered" {
			delivered = true
		}
	}
	if !delivered {
		t.Errorf("no sink.deliver span of the Kafka sink delivering")
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for _, path := range recv.paths {
		if path != "/v1/traces" {
			t.Errorf("spans posted to %s, want /v1/traces", path)
		}
	}
	for _, s := range recv.spans {
		for k, v := range s.attrs {
			if strings.Contains(v, "learner-7431") {
				t.Errorf("span %s: %s = %q names the learner", s.name, k, v)
			}
		}
	}
}

// TestServe_TracingOff: without --otlp-endpoint there is no tracer
// provider, the store is served as it is, unwrapped, and the server and
// relay are given no tracer.
func TestServe_TracingOff(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "disabled"},
		env(map[string]string{"LRS_BOOTSTRAP_KEY": "k", "LRS_BOOTSTRAP_SECRET": "s3cret-s3cret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, io.Discard)
	if a.tracing != nil {
		t.Errorf("a tracer provider without --otlp-endpoint")
	}
	if a.served != a.store {
		t.Errorf("the served store is %T, want the store itself (%T)", a.served, a.store)
	}
	if _, ok := a.served.(*sqlitestore.Store); !ok {
		t.Errorf("the served store is %T, want *sqlitestore.Store", a.served)
	}
}

// TestTracedStore_Capabilities: the traced store has exactly the
// interfaces of package statements that the store it wraps has, so that
// no capability the server or the CLI looks for (by type assertion) is
// lost, or promised, when traces are on. It reads the interfaces from the
// package's source, so an interface added later is checked without
// touching this test.
func TestTracedStore_Capabilities(t *testing.T) {
	ifaces := statementsInterfaces(t)
	if len(ifaces["Store"]) == 0 {
		t.Fatalf("found no Store interface in package statements")
	}
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(t.Context())
	// Wrap looks at the stores' types only: nil pointers will do.
	for _, store := range []statements.Store{(*sqlitestore.Store)(nil), (*mongostore.Store)(nil)} {
		has := methodSet(reflect.TypeOf(store))
		traced := methodSet(reflect.TypeOf(storetrace.Wrap(store, tp, "test")))
		for name, methods := range ifaces {
			if got, want := all(traced, methods), all(has, methods); got != want {
				t.Errorf("%T is statements.%s: %v; traced, it is: %v", store, name, want, got)
			}
		}
	}
}

func methodSet(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := range t.NumMethod() {
		m[t.Method(i).Name] = true
	}
	return m
}

func all(has map[string]bool, methods []string) bool {
	for _, m := range methods {
		if !has[m] {
			return false
		}
	}
	return true
}

// statementsInterfaces returns the exported interfaces of package
// statements with their methods, those of embedded interfaces included.
func statementsInterfaces(t *testing.T) map[string][]string {
	t.Helper()
	pkgs, err := parser.ParseDir(token.NewFileSet(), "../../statements", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	decls := map[string]*ast.InterfaceType{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.IsExported() {
					if it, ok := ts.Type.(*ast.InterfaceType); ok {
						decls[ts.Name.Name] = it
					}
				}
				return true
			})
		}
	}
	var methods func(it *ast.InterfaceType) []string
	methods = func(it *ast.InterfaceType) []string {
		var out []string
		for _, f := range it.Methods.List {
			switch {
			case len(f.Names) > 0:
				out = append(out, f.Names[0].Name)
			default:
				if id, ok := f.Type.(*ast.Ident); ok && decls[id.Name] != nil {
					out = append(out, methods(decls[id.Name])...)
				}
			}
		}
		return out
	}
	m := map[string][]string{}
	for name, it := range decls {
		m[name] = methods(it)
	}
	return m
}
