package forwarders

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/digione/lrs/statements"
)

// TraceScope is the instrumentation scope of the delivery spans.
const TraceScope = "github.com/digione/lrs/forwarders"

// Attribute keys of the sink.deliver span.
const (
	AttrSink          = attribute.Key("lrs.sink.name")
	AttrEntries       = attribute.Key("lrs.sink.entries")       // log entries in the batch
	AttrFirstPosition = attribute.Key("lrs.log.first_position") // log position of the first entry
	AttrLastPosition  = attribute.Key("lrs.log.last_position")  // and of the last
	AttrAttempt       = attribute.Key("lrs.sink.attempt")       // 1, or more when the batch is sent again
	AttrOutcome       = attribute.Key("lrs.sink.outcome")       // delivered, failed or stopped
	AttrErrorType     = attribute.Key("error.type")             // the statements error code, or the Go type of the error
)

// Outcomes of a delivery, the values of AttrOutcome.
const (
	OutcomeDelivered = "delivered" // the sink acknowledged every entry
	OutcomeFailed    = "failed"    // the sink failed; the batch is sent again after a backoff
	OutcomeStopped   = "stopped"   // the relay stopped during the delivery
)

// startDeliver starts the span of one delivery of b to sink, the
// attempt-th of that batch; a nil span when the relay does not trace.
func (r *Relay) startDeliver(ctx context.Context, sink string, b *batch, attempt int) (context.Context, trace.Span) {
	if r.tracer == nil {
		return ctx, nil
	}
	return r.tracer.Start(ctx, "sink.deliver", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		AttrSink.String(sink), AttrEntries.Int(b.read), AttrAttempt.Int(attempt),
		AttrFirstPosition.Int64(b.first), AttrLastPosition.Int64(b.through)))
}

// endDeliver ends span with its outcome. The error's message is not
// recorded (a sink's error may quote what it refused): its code or type
// is, and the log has the rest.
func endDeliver(span trace.Span, outcome string, err error) {
	if span == nil {
		return
	}
	span.SetAttributes(AttrOutcome.String(outcome))
	if err != nil {
		typ := fmt.Sprintf("%T", err)
		var de *statements.Error
		if errors.As(err, &de) {
			typ = de.Code
		}
		span.SetAttributes(AttrErrorType.String(typ))
		span.SetStatus(codes.Error, outcome)
	}
	span.End()
}
