package storetrace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/statements/sqlitestore"
	"github.com/digione/lrs/statements/storetest"
	"github.com/digione/lrs/statements/storetrace"
)

// TestStore runs the behaviour suite through the tracing wrapper: it
// changes nothing of what the store does.
func TestStore(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	storetest.Run(t, func(t *testing.T) statements.Store {
		s, err := sqlitestore.New(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return storetrace.Wrap(s, tp, "sqlite")
	})
}

// MustOpenTraced returns a traced embedded store in a temporary directory
// and the recorder of its spans.
func MustOpenTraced(tb testing.TB) (*storetrace.Store, *tracetest.SpanRecorder, trace.Tracer) {
	tb.Helper()
	s, err := sqlitestore.New(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	return storetrace.New(s, tp, "sqlite"), rec, tp.Tracer("test")
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestStore_Spans(t *testing.T) {
	const learner = "mailto:pupil-7f3a@example.org"
	raw := []byte(`{"actor":{"objectType":"Agent","mbox":"` + learner + `"},` +
		`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://example.org/course"}}`)

	t.Run("OK", func(t *testing.T) {
		s, rec, tracer := MustOpenTraced(t)
		ctx, parent := tracer.Start(t.Context(), "request")
		if err := s.InsertStatements(ctx, "school-1", []*statements.Record{storetest.Record(t, raw)}); err != nil {
			t.Fatal(err)
		}
		key, err := statements.AgentKey([]byte(`{"mbox":"` + learner + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.QueryStatements(ctx, "school-1", statements.Filter{Agent: key})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Records), 1; got != want {
			t.Fatalf("query found %d statements, want %d", got, want)
		}
		parent.End()

		spans := rec.Ended()
		if got, want := len(spans), 3; got != want {
			t.Fatalf("got %d spans, want %d", got, want)
		}
		for i, want := range []struct {
			name    string
			records int64
		}{{"store.InsertStatements", 1}, {"store.QueryStatements", int64(len(page.Records))}} {
			sp := spans[i]
			if got := sp.Name(); got != want.name {
				t.Errorf("span %d: got name %q, want %q", i, got, want.name)
			}
			if got, want := sp.Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
				t.Errorf("%s: parent %s, want the request span %s", sp.Name(), got, want)
			}
			if got := sp.SpanKind(); got != trace.SpanKindClient {
				t.Errorf("%s: kind %v, want client", sp.Name(), got)
			}
			a := attrs(sp)
			if got := a[storetrace.AttrTenant].AsString(); got != "school-1" {
				t.Errorf("%s: tenant %q, want school-1", sp.Name(), got)
			}
			if got := a[storetrace.AttrRecords].AsInt64(); got != want.records {
				t.Errorf("%s: records %d, want %d", sp.Name(), got, want.records)
			}
			if got := a[storetrace.AttrDBSystem].AsString(); got != "sqlite" {
				t.Errorf("%s: db.system.name %q, want sqlite", sp.Name(), got)
			}
			for k, v := range a {
				if strings.Contains(v.Emit(), "pupil-7f3a") {
					t.Errorf("%s: attribute %s names the learner: %q", sp.Name(), k, v.Emit())
				}
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, rec, tracer := MustOpenTraced(t)
		ctx, parent := tracer.Start(t.Context(), "request")
		_, err := s.Statement(ctx, "school-1", "9b0f5cf4-8b5c-4c1e-b1a3-3e0c0d0b8a11", false)
		parent.End()
		if got := statements.ErrorCode(err); got != statements.ENotFound {
			t.Fatalf("got %q, want %q", got, statements.ENotFound)
		}
		sp := rec.Ended()[0]
		if got := attrs(sp)[storetrace.AttrErrorCode].AsString(); got != statements.ENotFound {
			t.Errorf("error code %q, want %q", got, statements.ENotFound)
		}
		// An answer, not a fault.
		if got := sp.Status().Code; got != codes.Unset {
			t.Errorf("status %v, want unset", got)
		}
	})

	t.Run("NoParent", func(t *testing.T) {
		s, rec, _ := MustOpenTraced(t)
		if _, err := s.ReadLog(t.Context(), 0, 10); err != nil {
			t.Fatal(err)
		}
		if got := len(rec.Ended()); got != 0 {
			t.Errorf("a call outside a span made %d spans, want none", got)
		}
	})

	t.Run("Unwrap", func(t *testing.T) {
		s, _, _ := MustOpenTraced(t)
		if _, ok := s.Unwrap().(*sqlitestore.Store); !ok {
			t.Errorf("Unwrap returned %T, want *sqlitestore.Store", s.Unwrap())
		}
	})
}

// bareStore is a store without optional interfaces.
type bareStore struct{ statements.Store }

// skimmingStore is a store whose only optional interface is LogSkimmer.
type skimmingStore struct {
	statements.Store
	statements.LogSkimmer
}

// TestWrap: the traced store has exactly the optional interfaces of the
// store it wraps, and traces their calls too.
func TestWrap(t *testing.T) {
	s, err := sqlitestore.New(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	t.Run("Bare", func(t *testing.T) {
		w := storetrace.Wrap(bareStore{s}, tp, "sqlite")
		if _, ok := w.(statements.Sizer); ok {
			t.Errorf("%T is a Sizer over a store that is not", w)
		}
		if _, ok := w.(statements.LeaseCounter); ok {
			t.Errorf("%T is a LeaseCounter over a store that is not", w)
		}
		if _, ok := w.(statements.LogSkimmer); ok {
			t.Errorf("%T is a LogSkimmer over a store that is not", w)
		}
		if _, ok := w.(*storetrace.Store); !ok {
			t.Errorf("got %T, want *storetrace.Store", w)
		}
	})

	t.Run("SkimmerOnly", func(t *testing.T) {
		w := storetrace.Wrap(skimmingStore{s, s}, tp, "sqlite")
		_, sized := w.(statements.Sizer)
		_, counted := w.(statements.LeaseCounter)
		if _, ok := w.(statements.LogSkimmer); !ok || sized || counted {
			t.Errorf("%T over a LogSkimmer only: LogSkimmer %v, Sizer %v, LeaseCounter %v", w, ok, sized, counted)
		}
	})

	t.Run("OK", func(t *testing.T) {
		w := storetrace.Wrap(s, tp, "sqlite")
		z, ok := w.(statements.Sizer)
		if !ok {
			t.Fatalf("%T is not a Sizer over a store that is", w)
		}
		c, ok := w.(statements.LeaseCounter)
		if !ok {
			t.Fatalf("%T is not a LeaseCounter over a store that is", w)
		}
		ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
		if _, err := z.Size(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.AcquireLease(ctx, "replica/a", "a", time.Minute); err != nil {
			t.Fatal(err)
		}
		n, err := c.CountLeases(ctx, "replica/")
		if err != nil || n != 1 {
			t.Fatalf("CountLeases = %d, %v; want 1", n, err)
		}
		k, ok := w.(statements.LogSkimmer)
		if !ok {
			t.Fatalf("%T is not a LogSkimmer over a store that is", w)
		}
		if _, err := k.SkimLog(ctx, 0, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := k.ReadLogOf(ctx, 0, 10, []string{"t"}); err != nil {
			t.Fatal(err)
		}
		parent.End()
		var names []string
		for _, sp := range rec.Ended() {
			names = append(names, sp.Name())
		}
		if got, want := strings.Join(names, " "), "store.Size store.AcquireLease store.CountLeases store.SkimLog store.ReadLogOf request"; got != want {
			t.Errorf("spans %q, want %q", got, want)
		}
	})
}
