package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/digione/lrs/lrs"
)

// serviceName is the service.name of the LRS's traces, unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES set another.
const serviceName = "digione-lrs"

// tracesURL returns where spans are posted for the --otlp-endpoint
// endpoint: an OTLP/HTTP base URL (http://collector:4318) gets the signal
// path /v1/traces appended, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL
// whose path already ends in /v1/traces is taken as it is. The error never
// quotes a password in the URL.
func tracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", errors.New("--otlp-endpoint: not a URL; want an OTLP/HTTP endpoint such as http://collector:4318")
	}
	if u.User != nil {
		return "", fmt.Errorf("--otlp-endpoint %q: no credentials in the URL; set headers through OTEL_EXPORTER_OTLP_HEADERS", u.Redacted())
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--otlp-endpoint %q: want an OTLP/HTTP endpoint such as http://collector:4318", endpoint)
	}
	if p := strings.TrimSuffix(u.Path, "/"); !strings.HasSuffix(p, "/v1/traces") {
		u.Path = p + "/v1/traces"
	}
	return u.String(), nil
}

// newTracing returns the tracer provider that sends the LRS's spans to
// endpoint over OTLP/HTTP (protobuf) in batches. The SDK reads the
// standard variables beside it: OTEL_TRACES_SAMPLER and _ARG (default
// parentbased_always_on), OTEL_BSP_* for the batches,
// OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and _CERTIFICATE,
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. The endpoint itself
// comes from --otlp-endpoint only. Failures to export are logged as
// warnings to log.
func newTracing(ctx context.Context, endpoint string, log zerolog.Logger) (*sdktrace.TracerProvider, error) {
	u, err := tracesURL(endpoint)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u))
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	// Later options win: the environment's service name over ours.
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(serviceName), semconv.ServiceVersion(lrs.ProductVersion())),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil {
		// A partial resource is still one; say what is missing.
		log.Warn().Err(err).Msg("traces: resource attributes")
	}
	// The SDK reports export failures through the process's one error
	// handler; by default that writes plain text to stderr.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn().Err(err).Msg("traces: cannot export spans")
	}))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
