package lrs

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// TraceScope is the instrumentation scope of the request spans.
const TraceScope = "github.com/digione/lrs/lrs"

// Attribute keys of the request spans beside OpenTelemetry's HTTP
// conventions.
const (
	AttrTenant      = attribute.Key("lrs.tenant.id")
	AttrCredential  = attribute.Key("lrs.credential.key")
	AttrRequestID   = attribute.Key("lrs.request.id") // as in the request's log line and X-Request-Id
	AttrXAPIVersion = attribute.Key("lrs.xapi.version")
	AttrErrorCode   = attribute.Key("lrs.error.code") // a statements error code: "invalid", "internal", ...
)

// traceContext reads the W3C traceparent and tracestate headers, so that a
// request continues its client's trace.
var traceContext = propagation.TraceContext{}

// untraced are the routes probes and scrapers call every few seconds: a
// span of each would bury the traces worth reading.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// traceRequest makes the server span of a request, named for its method
// and route template ("POST /xapi/statements"), and puts it in the
// request's context, where the store's spans find their parent. It runs
// first, so that the span covers every other middleware.
//
// The span holds the method, the route, the status code, the tenant and
// the credential key, the request id and the xAPI version; never the path
// or the query string (GET /xapi/statements?agent=... names a learner),
// a header other than those, the body, the client's address or its user
// agent. A 5xx marks the span failed, with the error code as error.type.
func (s *Server) traceRequest(c *gin.Context) {
	route := c.FullPath()
	if untraced[route] {
		c.Next()
		return
	}
	r := c.Request
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	method := traceMethod(r.Method)
	name := method.Value.AsString()
	attrs := []attribute.KeyValue{method, semconv.URLScheme(scheme(r)),
		semconv.NetworkProtocolVersion(strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor))}
	if route != "" {
		// Without a route (a 404), the name is the method alone, so that
		// scanners' paths make no new span names.
		name += " " + route
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	defer span.End()
	c.Request = r.WithContext(ctx)

	c.Next()

	status := c.Writer.Status()
	if c.GetInt(ctxStatus) == statusClientClosed {
		status = statusClientClosed
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(status), AttrRequestID.String(requestIDOf(c)))
	if v := versionOf(c); v != "" {
		span.SetAttributes(AttrXAPIVersion.String(v))
	}
	if cred := credentialOf(c); cred != nil {
		span.SetAttributes(AttrTenant.String(cred.Tenant), AttrCredential.String(cred.Key))
	}
	code := ""
	if v, ok := c.Get(ctxError); ok {
		if err, ok := v.(error); ok && err != nil {
			de, _ := asDomainError(err)
			code = de.Code
			span.SetAttributes(AttrErrorCode.String(code))
		}
	}
	if status >= 500 {
		if code == "" {
			code = strconv.Itoa(status)
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(code))
		span.SetStatus(codes.Error, code)
	}
}

// withTraceID adds the trace id of r's span to a log line, so that the
// line leads to the trace and back; without a span, nothing.
func withTraceID(ev *zerolog.Event, r *http.Request) *zerolog.Event {
	if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
		ev = ev.Str("trace_id", sc.TraceID().String())
	}
	return ev
}

// traceMethod returns the http.request.method attribute of method: one of
// the methods HTTP defines, or "_OTHER".
func traceMethod(method string) attribute.KeyValue {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return semconv.HTTPRequestMethodKey.String(method)
	}
	return semconv.HTTPRequestMethodOther
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
