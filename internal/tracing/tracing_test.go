package tracing

import (
	"context"
	"errors"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Without an endpoint there is no provider, and every span call is a nil
// check that allocates nothing.
func TestOffMakesNothing(t *testing.T) {
	p, err := New(context.Background(), Config{NodeID: "n1"})
	if err != nil || p != nil || p.Tracer() != nil || p.Tracer().Enabled() {
		t.Fatalf("New without endpoint = %v, %v; want nil, nil", p, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	var tr *Tracer
	ctx := context.Background()
	items := []*store.IngestItem{{Event: &slotwire.Event{ID: "evt_1", TenantID: "ten_1", Type: "a.b"}}}
	job := &store.Job{Delivery: slotwire.Delivery{ID: "dlv_1", EventID: "evt_1"}}
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	allocs := testing.AllocsPerRun(100, func() {
		_ = tr.Extract(ctx, h)
		pub := tr.StartPublish(ctx, items)
		commit := tr.StartCommit(ctx, nil, 1)
		commit.EndCommit(items, nil)
		pub.Link(commit)
		pub.EndPublish(items, nil)
		a := tr.StartAttempt(job)
		a.EndAttempt(store.Outcome{Status: slotwire.StatusSucceeded})
		if pub.Recording() || pub.Context().IsValid() {
			t.Fatal("a span while off")
		}
	})
	if allocs != 0 {
		t.Fatalf("tracing off allocates %v times per event", allocs)
	}
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":             "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":            "http://127.0.0.1:4318/v1/traces",
		"https://otel.example:443/otlp":     "https://otel.example:443/otlp/v1/traces",
		"http://collector:4318/v1/traces":   "http://collector:4318/v1/traces",
		"127.0.0.1:4318":                    "",
		"ftp://collector:4318":              "",
		"http://collector:4318/?token=x":    "",
		"http:///v1/traces":                 "",
		"http://collector:4318/v1/traces#x": "",
	} {
		got, err := TracesURL(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("TracesURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := New(context.Background(), Config{Endpoint: "localhost:4318"}); err == nil {
		t.Fatal("New took an endpoint without a scheme")
	}
}

// recorder is a Tracer on the SDK with spans kept in memory.
func recorder(t *testing.T) (*Tracer, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &Tracer{t: tp.Tracer("test")}, exp
}

func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name, eventID string) tracetest.SpanStub {
	t.Helper()
	for _, s := range exp.GetSpans() {
		if s.Name != name {
			continue
		}
		for _, a := range s.Attributes {
			if (a.Key == KeyEventID && a.Value.AsString() == eventID) || eventID == "" {
				return s
			}
		}
	}
	t.Fatalf("no %s span of %q in %d spans", name, eventID, len(exp.GetSpans()))
	return tracetest.SpanStub{}
}

// A commit serving three publishes is one span: a child of the first
// publish, linked to the other two, each of which links back to it; an
// attempt of a job leased at ingest is a child of its publish, one claimed
// from the database a root.
func TestCommitServesSeveralPublishes(t *testing.T) {
	tr, exp := recorder(t)
	ctx := context.Background()
	var pubs []Span
	var items [][]*store.IngestItem
	for _, id := range []string{"evt_a", "evt_b", "evt_c"} {
		it := []*store.IngestItem{{Event: &slotwire.Event{ID: id, TenantID: "ten_1", Type: "visit.created"}, Deliveries: 1}}
		items = append(items, it)
		pubs = append(pubs, tr.StartPublish(ctx, it))
	}
	commit := tr.StartCommit(ctx, []trace.SpanContext{pubs[0].Context(), pubs[1].Context(), pubs[2].Context()}, 3)
	commit.EndCommit(append(append(items[0], items[1]...), items[2]...), nil)
	for i, p := range pubs {
		p.Link(commit)
		p.EndPublish(items[i], nil)
	}
	job := &store.Job{Delivery: slotwire.Delivery{ID: "dlv_b", EventID: "evt_b", Attempts: 0}, Trace: ptr(pubs[1].Context())}
	tr.StartAttempt(job).EndAttempt(store.Outcome{Status: slotwire.StatusPending,
		Attempt: slotwire.Attempt{StatusCode: 503, Error: "HTTP 503"}})
	retry := &store.Job{Delivery: slotwire.Delivery{ID: "dlv_b", EventID: "evt_b", Attempts: 1}}
	tr.StartAttempt(retry).EndAttempt(store.Outcome{Status: slotwire.StatusSucceeded, Attempt: slotwire.Attempt{StatusCode: 204}})

	c := spanNamed(t, exp, SpanCommit, "")
	a := spanNamed(t, exp, SpanPublish, "evt_a")
	if c.Parent.SpanID() != a.SpanContext.SpanID() || c.SpanContext.TraceID() != a.SpanContext.TraceID() {
		t.Fatalf("commit's parent = %v, want the first publish %v", c.Parent, a.SpanContext)
	}
	if len(c.Links) != 2 || c.Links[0].SpanContext.SpanID() != pubs[1].Context().SpanID() ||
		c.Links[1].SpanContext.SpanID() != pubs[2].Context().SpanID() {
		t.Fatalf("commit links = %+v", c.Links)
	}
	if b := spanNamed(t, exp, SpanPublish, "evt_b"); len(b.Links) != 1 || b.Links[0].SpanContext.SpanID() != c.SpanContext.SpanID() {
		t.Fatalf("publish b links = %+v, want the commit", b.Links)
	}
	var attempts []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == SpanAttempt {
			attempts = append(attempts, s)
		}
	}
	if len(attempts) != 2 || attempts[0].Parent.SpanID() != pubs[1].Context().SpanID() ||
		attempts[0].Status.Description != "HTTP 503" || attempts[1].Parent.IsValid() ||
		attempts[1].SpanContext.TraceID() == attempts[0].SpanContext.TraceID() {
		t.Fatalf("attempts = %+v", attempts)
	}
}

// A failed publish ends its span with an error and does not read the items
// (the commit may still hold them).
func TestFailedPublish(t *testing.T) {
	tr, exp := recorder(t)
	it := []*store.IngestItem{{Event: &slotwire.Event{ID: "evt_x", TenantID: "ten_1", Type: "visit.created"}}}
	s := tr.StartPublish(context.Background(), it)
	it[0].Event = nil // would panic if read
	s.EndPublish(it, errors.New("ingest: disk full"))
	got := exp.GetSpans()
	if len(got) != 1 || got[0].Status.Description != "ingest: disk full" {
		t.Fatalf("spans = %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// A failed attempt's error status never holds the endpoint's URL, which
// may carry a token.
func TestAttemptErrorWithoutURL(t *testing.T) {
	tr, exp := recorder(t)
	j := &store.Job{Delivery: slotwire.Delivery{ID: "dlv_1", EventID: "evt_1"}}
	tr.StartAttempt(j).EndAttempt(store.Outcome{Status: slotwire.StatusPending, Attempt: slotwire.Attempt{
		Error: `Post "https://hooks.example/in?token=tok-123": dial tcp 203.0.113.9:443: connect: connection refused`}})
	tr.StartAttempt(j).EndAttempt(store.Outcome{Status: slotwire.StatusFailed, Attempt: slotwire.Attempt{StatusCode: 500, Error: "HTTP 500"}})
	got := exp.GetSpans()
	if len(got) != 2 || got[0].Status.Description != "dial tcp 203.0.113.9:443: connect: connection refused" ||
		got[1].Status.Description != "HTTP 500" {
		t.Fatalf("statuses = %q, %q", got[0].Status.Description, got[1].Status.Description)
	}
}
