package forwarders_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/forwarders"
)

// spanLog is a memLog that notes the span each SetCursor runs in.
type spanLog struct {
	*memLog
	mu    sync.Mutex
	spans []trace.SpanID
}

func (l *spanLog) SetCursor(ctx context.Context, sink string, pos int64) error {
	l.mu.Lock()
	l.spans = append(l.spans, trace.SpanContextFromContext(ctx).SpanID())
	l.mu.Unlock()
	return l.memLog.SetCursor(ctx, sink, pos)
}

// TestRelay_Traces: each delivery of a batch to a sink is one sink.deliver
// span with the sink, the entries, their positions, the attempt and the
// outcome; a failure marks the span failed with the error's type, not its
// message; the cursor is written inside the span; an idle relay makes none.
func TestRelay_Traces(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	log := &spanLog{memLog: newMemLog(12)}
	sink := &recSink{fail: 1, log: log.memLog}
	r, err := forwarders.New(forwarders.Config{Log: log, Sinks: []forwarders.Sink{sink}, Batch: 10, TracerProvider: tp,
		BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	waitUntil(t, "all are sent", func() bool { return len(sink.acked()) == 12 })
	time.Sleep(30 * time.Millisecond) // a few idle polls
	stop()

	spans := exp.GetSpans()
	type want struct {
		first, last, entries, attempt int64
		outcome                       string
	}
	wants := []want{{1, 10, 10, 1, forwarders.OutcomeFailed}, {1, 10, 10, 2, forwarders.OutcomeDelivered}, {11, 12, 2, 1, forwarders.OutcomeDelivered}}
	if len(spans) != len(wants) {
		t.Fatalf("got %d spans, want %d: %v", len(spans), len(wants), spans)
	}
	for i, w := range wants {
		sp := spans[i]
		a := map[attribute.Key]attribute.Value{}
		for _, kv := range sp.Attributes {
			a[kv.Key] = kv.Value
		}
		if sp.Name != "sink.deliver" {
			t.Errorf("span %d: name %q, want sink.deliver", i, sp.Name)
		}
		if got := a[forwarders.AttrSink].AsString(); got != "rec" {
			t.Errorf("span %d: sink %q, want rec", i, got)
		}
		got := want{a[forwarders.AttrFirstPosition].AsInt64(), a[forwarders.AttrLastPosition].AsInt64(),
			a[forwarders.AttrEntries].AsInt64(), a[forwarders.AttrAttempt].AsInt64(), a[forwarders.AttrOutcome].AsString()}
		if got != w {
			t.Errorf("span %d: got %+v, want %+v", i, got, w)
		}
		failed := w.outcome == forwarders.OutcomeFailed
		if got := sp.Status.Code == codes.Error; got != failed {
			t.Errorf("span %d: status %v", i, sp.Status)
		}
		if failed {
			if got := a[forwarders.AttrErrorType].AsString(); got != "*errors.errorString" {
				t.Errorf("span %d: error.type %q, want the error's type", i, got)
			}
			if sp.Status.Description == "broker down" {
				t.Errorf("span %d: the status holds the error's message", i)
			}
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if got, want := log.spans, []trace.SpanID{spans[1].SpanContext.SpanID(), spans[2].SpanContext.SpanID()}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SetCursor ran in spans %v, want those of the deliveries %v", got, want)
	}
}
