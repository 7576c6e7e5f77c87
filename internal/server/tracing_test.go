package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
)

// collector is an OTLP/HTTP receiver on loopback: it decodes what is
// POSTed to /v1/traces and keeps the spans with their resource.
type collector struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	spans    []span
}

// span is one span received, its attributes and its resource's as text.
type span struct {
	*tracepb.Span
	attrs, resource map[string]string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req collectorpb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	for _, rs := range req.ResourceSpans {
		res := attrText(rs.Resource.GetAttributes())
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, span{Span: s, attrs: attrText(s.Attributes), resource: res})
			}
		}
	}
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *collector) received() (int, []span) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, append([]span(nil), c.spans...)
}

func attrText(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		}
	}
	return m
}

// find returns the spans of that name whose attributes include want.
func find(spans []span, name string, want map[string]string) []span {
	var out []span
next:
	for _, s := range spans {
		if s.Name != name {
			continue
		}
		for k, v := range want {
			if s.attrs[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// startTraced starts a node that the test closes itself: its spans are
// sent when it stops.
func startTraced(t *testing.T, cfg server.Config) (*env, func()) {
	t.Helper()
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr, cfg.AdminToken, cfg.Migrate = "127.0.0.1:0", adminToken, true
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { n.Close() }) }
	t.Cleanup(stop)
	return &env{t: t, node: n, admin: client.New(n.URL(), adminToken)}, stop
}

// One trace from publish through commit to the attempt: a node sends its
// spans to an OTLP/HTTP collector; the publish, commit and first attempt
// share a trace id and carry the event and delivery ids; the retry,
// claimed from the database, is a root with the same ids; a publisher's
// traceparent is continued.
func TestTracesFromPublishToAttempt(t *testing.T) {
	t.Parallel()
	col := newCollector(t)
	cfg := fast()
	cfg.OTLPEndpoint, cfg.NodeID = col.URL, "node-traced"
	e, stop := startTraced(t, cfg)
	if e.node.Tracing == nil {
		t.Fatal("no tracer provider with an endpoint")
	}
	c := e.tenant("Acme")
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "visit.created")
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	if !rc.WaitCount(2, 10*time.Second) {
		t.Fatal("the event was not delivered twice")
	}
	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	var b client.EventAccepted
	if err := c.Do(context.Background(), "POST", "/v1/events", map[string]any{"type": "visit.created", "data": map[string]int{"n": 2}},
		&b, "traceparent", "00-"+parentTrace+"-"+parentSpan+"-01"); err != nil {
		t.Fatal(err)
	}
	if !rc.WaitCount(3, 10*time.Second) {
		t.Fatal("the second event was not delivered")
	}
	ev, err := c.GetEvent(context.Background(), id)
	if err != nil || len(ev.Deliveries) != 1 {
		t.Fatalf("event = %+v, %v", ev, err)
	}
	dlv := ev.Deliveries[0].ID
	stop() // flushes the spans
	_, spans := col.received()

	pub := find(spans, "publish", map[string]string{"slotwire.event_id": id, "slotwire.event_type": "visit.created"})
	if len(pub) != 1 || pub[0].resource["service.name"] != "slotwire" || pub[0].resource["service.instance.id"] != "node-traced" ||
		pub[0].Kind != tracepb.Span_SPAN_KIND_PRODUCER || pub[0].attrs["slotwire.tenant_id"] == "" {
		t.Fatalf("publish spans of %s: %+v", id, pub)
	}
	trace, pubID := pub[0].TraceId, pub[0].SpanId
	var commit []span
	for _, s := range find(spans, "commit", nil) {
		if string(s.TraceId) == string(trace) && string(s.ParentSpanId) == string(pubID) {
			commit = append(commit, s)
		}
	}
	if len(commit) != 1 || commit[0].attrs["slotwire.deliveries"] != "1" {
		t.Fatalf("commit spans in the publish's trace: %+v", commit)
	}
	ids := map[string]string{"slotwire.event_id": id, "slotwire.delivery_id": dlv, "slotwire.endpoint_id": ep}
	first := find(spans, "attempt", with(ids, "slotwire.attempt", "1"))
	if len(first) != 1 || string(first[0].TraceId) != string(trace) || string(first[0].ParentSpanId) != string(pubID) ||
		first[0].attrs["http.response.status_code"] != "500" || first[0].attrs["slotwire.outcome"] != "retrying" ||
		first[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || first[0].Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Fatalf("first attempt: %+v", first)
	}
	retry := find(spans, "attempt", with(ids, "slotwire.attempt", "2"))
	if len(retry) != 1 || len(retry[0].ParentSpanId) != 0 || string(retry[0].TraceId) == string(trace) ||
		retry[0].attrs["http.response.status_code"] != "200" || retry[0].attrs["slotwire.outcome"] != "succeeded" ||
		retry[0].Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Fatalf("retry (a root of its own): %+v", retry)
	}

	pubB := find(spans, "publish", map[string]string{"slotwire.event_id": b.ID})
	if len(pubB) != 1 || hex.EncodeToString(pubB[0].TraceId) != parentTrace || hex.EncodeToString(pubB[0].ParentSpanId) != parentSpan {
		t.Fatalf("publish with a traceparent: %+v", pubB)
	}
	attB := find(spans, "attempt", map[string]string{"slotwire.event_id": b.ID})
	if len(attB) != 1 || hex.EncodeToString(attB[0].TraceId) != parentTrace || string(attB[0].ParentSpanId) != string(pubB[0].SpanId) {
		t.Fatalf("attempt of the event published with a traceparent: %+v", attB)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Without --otlp-endpoint there is no exporter, whatever the OTEL_*
// variables say: nothing is sent.
func TestNoTracesWithoutEndpoint(t *testing.T) {
	col := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", col.URL+"/v1/traces")
	e, stop := startTraced(t, fast())
	if e.node.Tracing != nil || e.node.Tracing.Tracer() != nil {
		t.Fatal("a tracer provider without --otlp-endpoint")
	}
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	endpoint(t, c, rc.URL, "visit.created")
	publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("not delivered")
	}
	stop()
	if n, spans := col.received(); n != 0 || len(spans) != 0 {
		t.Fatalf("the collector got %d requests, %d spans", n, len(spans))
	}
}

// An attempt that could not connect has an error status naming the network
// error, never the endpoint's URL (it may carry a token).
func TestTracesHoldNoEndpointURL(t *testing.T) {
	t.Parallel()
	col := newCollector(t)
	cfg := fast()
	cfg.OTLPEndpoint = col.URL
	e, stop := startTraced(t, cfg)
	c := e.tenant("Acme")
	endpoint(t, c, "http://127.0.0.1:1/in?token=tok-secret-9", "visit.created") // nothing listens on port 1
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	e.eventually(func() bool {
		ev, err := c.GetEvent(context.Background(), id)
		return err == nil && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "failed"
	})
	stop()
	_, spans := col.received()
	failed := find(spans, "attempt", map[string]string{"slotwire.event_id": id, "slotwire.outcome": "failed"})
	if len(failed) != 1 || failed[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR ||
		!strings.Contains(failed[0].Status.GetMessage(), "connection refused") {
		t.Fatalf("failed attempt: %+v", failed)
	}
	for _, s := range spans {
		if strings.Contains(s.Status.GetMessage(), "tok-secret-9") || strings.Contains(fmt.Sprint(s.attrs), "tok-secret-9") {
			t.Fatalf("span %s holds the endpoint's token: %+v", s.Name, s)
		}
	}
}
