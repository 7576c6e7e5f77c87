package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Span names.
const (
	SpanPublish = "publish"
	SpanCommit  = "commit"
	SpanAttempt = "attempt"
)

// Attribute keys of the spans (docs/operations.md, Traces).
const (
	KeyTenantID   = attribute.Key("slotwire.tenant_id")
	KeyEventType  = attribute.Key("slotwire.event_type")
	KeyEventID    = attribute.Key("slotwire.event_id")
	KeyEventIDs   = attribute.Key("slotwire.event_ids") // a publish of several events
	KeyEvents     = attribute.Key("slotwire.events")
	KeyDuplicates = attribute.Key("slotwire.duplicates")
	KeyDeliveries = attribute.Key("slotwire.deliveries")
	KeyPublishes  = attribute.Key("slotwire.publishes")
	KeyDeliveryID = attribute.Key("slotwire.delivery_id")
	KeyEndpointID = attribute.Key("slotwire.endpoint_id")
	KeyAttempt    = attribute.Key("slotwire.attempt")
	KeyOutcome    = attribute.Key("slotwire.outcome")
	KeyStatusCode = semconv.HTTPResponseStatusCodeKey
)

// StartPublish starts the publish span of one Publish or PublishBatch call
// (items of one tenant, ids assigned), a child of the span in ctx if any.
func (t *Tracer) StartPublish(ctx context.Context, items []*store.IngestItem) Span {
	if t == nil || len(items) == 0 {
		return Span{}
	}
	e := items[0].Event
	attrs := []attribute.KeyValue{KeyTenantID.String(e.TenantID), KeyEvents.Int(len(items))}
	if same := sameType(items); same != "" {
		attrs = append(attrs, KeyEventType.String(same))
	}
	attrs = append(attrs, eventIDs(items))
	_, s := t.t.Start(ctx, SpanPublish, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	return Span{s}
}

func sameType(items []*store.IngestItem) string {
	typ := items[0].Event.Type
	for _, it := range items[1:] {
		if it.Event.Type != typ {
			return ""
		}
	}
	return typ
}

// eventIDs is slotwire.event_id for one event, slotwire.event_ids for
// several.
func eventIDs(items []*store.IngestItem) attribute.KeyValue {
	if len(items) == 1 {
		return KeyEventID.String(items[0].Event.ID)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Event.ID
	}
	return KeyEventIDs.StringSlice(ids)
}

// EndPublish ends a publish span. On success the items are read again: a
// duplicate's id is the first event's, and the deliveries are counted.
// On error they are not read (the commit may still be running).
func (s Span) EndPublish(items []*store.IngestItem, err error) {
	if s.s == nil {
		return
	}
	if err != nil {
		s.s.SetStatus(codes.Error, err.Error())
		s.s.End()
		return
	}
	if s.s.IsRecording() {
		dups, deliveries := 0, 0
		for _, it := range items {
			if it.Duplicate {
				dups++
			}
			deliveries += it.Deliveries
		}
		s.s.SetAttributes(eventIDs(items), KeyDuplicates.Int(dups), KeyDeliveries.Int(deliveries))
	}
	s.s.End()
}

// StartCommit starts the span of one group commit serving the given
// publish spans: a child of the first, linked to the others.
func (t *Tracer) StartCommit(ctx context.Context, publishes []trace.SpanContext, events int) Span {
	if t == nil {
		return Span{}
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(KeyPublishes.Int(len(publishes)), KeyEvents.Int(events))}
	if len(publishes) > 0 {
		ctx = trace.ContextWithSpanContext(ctx, publishes[0])
		links := make([]trace.Link, 0, len(publishes)-1)
		for _, p := range publishes[1:] {
			links = append(links, trace.Link{SpanContext: p})
		}
		opts = append(opts, trace.WithLinks(links...))
	}
	_, s := t.t.Start(ctx, SpanCommit, opts...)
	return Span{s}
}

// EndCommit ends a commit span with the deliveries it created, or its
// error.
func (s Span) EndCommit(items []*store.IngestItem, err error) {
	if s.s == nil {
		return
	}
	if err != nil {
		s.s.SetStatus(codes.Error, err.Error())
	} else if s.s.IsRecording() {
		deliveries := 0
		for _, it := range items {
			deliveries += it.Deliveries
		}
		s.s.SetAttributes(KeyDeliveries.Int(deliveries))
	}
	s.s.End()
}

// Link links s (a publish span) to other (the commit that served it).
func (s Span) Link(other Span) {
	if s.s == nil || other.s == nil {
		return
	}
	s.s.AddLink(trace.Link{SpanContext: other.s.SpanContext()})
}

// StartAttempt starts the span of one delivery attempt: a child of the
// job's publish span when it has one (leased at ingest), else a new root.
func (t *Tracer) StartAttempt(j *store.Job) Span {
	if t == nil {
		return Span{}
	}
	ctx := context.Background()
	if j.Trace != nil && j.Trace.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, *j.Trace)
	}
	d := &j.Delivery
	_, s := t.t.Start(ctx, SpanAttempt, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		KeyTenantID.String(d.TenantID), KeyEventID.String(d.EventID), KeyEventType.String(d.EventType),
		KeyDeliveryID.String(d.ID), KeyEndpointID.String(j.Endpoint.ID), KeyAttempt.Int(d.Attempts+1)))
	return Span{s}
}

// Outcome names what followed an attempt as the metrics do: succeeded,
// retrying, failed or filtered.
func Outcome(status string) string {
	if status == slotwire.StatusPending {
		return "retrying"
	}
	return status
}

// EndAttempt ends an attempt span with its outcome: the receiver's status
// code, and an error status when the attempt failed (retrying or failed;
// a filtered event is no error).
func (s Span) EndAttempt(o store.Outcome) {
	if s.s == nil {
		return
	}
	if s.s.IsRecording() {
		outcome := Outcome(o.Status)
		s.s.SetAttributes(KeyOutcome.String(outcome))
		if o.Attempt.StatusCode > 0 {
			s.s.SetAttributes(KeyStatusCode.Int(o.Attempt.StatusCode))
		}
		if outcome == "retrying" || outcome == slotwire.StatusFailed {
			s.s.SetStatus(codes.Error, withoutURL(o.Attempt.Error))
		}
	}
	s.s.End()
}

// withoutURL drops the request URL that net/http puts before a transport
// error (`Post "https://…?token=…": dial tcp …`): an endpoint's URL may
// carry a credential, and spans leave the node.
func withoutURL(msg string) string {
	if rest, ok := strings.CutPrefix(msg, `Post "`); ok {
		if i := strings.Index(rest, `": `); i >= 0 {
			return rest[i+len(`": `):]
		}
	}
	return msg
}
