// Package tracing owns the node's OpenTelemetry traces: the tracer provider
// built from --otlp-endpoint (OTLP over HTTP, spans batched), and the spans
// of an event's path with their names and attributes, in one place:
//
//	publish  one Publish or PublishBatch call (POST /v1/events, the batch
//	         route, the node's own endpoint.* events), from the events'
//	         arrival at the ingester to their commit
//	commit   one group commit of the ingester: a child of the first
//	         publish it serves, linked to every other one (and each of
//	         those publish spans links back to it)
//	attempt  one delivery attempt: a child of its event's publish span when
//	         the delivery was leased at ingest on this node, else (a retry,
//	         work claimed from the database or by another node) the root of
//	         a trace of its own, found by its event and delivery ids
//
// Off (no endpoint) there is no provider: New returns nil, its Tracer is
// nil, and every method of a nil *Tracer or of a zero Span returns at once,
// so the hot paths pay a nil check and allocate nothing.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of the node's resource, unless
// OTEL_SERVICE_NAME says otherwise.
const ServiceName = "slotwire"

// Config of a Provider.
type Config struct {
	// Endpoint is the collector's OTLP/HTTP base URL, e.g.
	// http://127.0.0.1:4318; "/v1/traces" is appended to its path unless
	// it ends with it. Empty: tracing is off.
	Endpoint string
	// NodeID is the node's id (--node-id), its service.instance.id.
	NodeID  string
	Version string
	// Logger is told of failed exports.
	Logger *slog.Logger
}

// Provider is the node's tracer provider; nil when tracing is off.
type Provider struct {
	tp     *sdktrace.TracerProvider
	tracer *Tracer
}

// New builds the provider, or returns nil when cfg.Endpoint is empty. The
// SDK reads the standard OTEL_* variables it knows (OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and its argument,
// OTEL_BSP_*, OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION,
// _CERTIFICATE …); the endpoint is always cfg.Endpoint.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Endpoint == "" {
		return nil, nil
	}
	endpoint, err := TracesURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(ServiceName), semconv.ServiceVersion(cfg.Version),
			semconv.ServiceInstanceID(cfg.NodeID)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	if cfg.Logger != nil {
		// The SDK reports failed exports to the process's handler.
		log := cfg.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("otlp export", "err", err) }))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := tp.Tracer("github.com/slotwire/slotwire", trace.WithInstrumentationVersion(cfg.Version))
	return &Provider{tp: tp, tracer: &Tracer{t: t}}, nil
}

// TracesURL is the URL spans are sent to for an --otlp-endpoint value.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("otlp endpoint %q: want a base URL such as http://127.0.0.1:4318", endpoint)
	}
	if !strings.HasSuffix(u.Path, "/v1/traces") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// Tracer is the node's tracer; nil when tracing is off.
func (p *Provider) Tracer() *Tracer {
	if p == nil {
		return nil
	}
	return p.tracer
}

// Shutdown exports the spans still buffered and stops the exporter,
// waiting at most until ctx ends. Call it once the services that make
// spans have stopped.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.tp.Shutdown(ctx)
}

// Close is Shutdown bounded to five seconds, for a node's stop.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Shutdown(ctx)
}

// Tracer starts the spans of an event's path. A nil *Tracer is off.
type Tracer struct {
	t trace.Tracer
}

// Enabled reports whether spans are made.
func (t *Tracer) Enabled() bool { return t != nil }

// Extract continues the publisher's trace when its request carries a W3C
// traceparent header: the publish span becomes a child of the caller's span.
func (t *Tracer) Extract(ctx context.Context, h http.Header) context.Context {
	if t == nil || h.Get("traceparent") == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(h))
}

// Span is one span of the event's path; the zero Span (tracing off) does
// nothing.
type Span struct {
	s trace.Span
}

// Context is the span's context: the parent of spans that follow from it
// (zero when off).
func (s Span) Context() trace.SpanContext {
	if s.s == nil {
		return trace.SpanContext{}
	}
	return s.s.SpanContext()
}

// Recording reports whether the span is sampled and records what it is
// told.
func (s Span) Recording() bool { return s.s != nil && s.s.IsRecording() }
