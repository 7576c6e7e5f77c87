package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Tester sends a test event to an endpoint now, the way deliveries are
// sent (the same client, address checks, timeout, headers and signature),
// and reports what the receiver answered (POST /v1/endpoints/{id}/test).
// It stores nothing; API-only nodes have one too.
type Tester struct {
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

// NewTester returns a Tester with the dispatcher's settings (Guard,
// Timeout, Transport, Now).
func NewTester(cfg Config) *Tester {
	cfg = cfg.withDefaults()
	return &Tester{client: newClient(&cfg), timeout: cfg.Timeout, now: cfg.Now}
}

// Test sends a signed webhook.test event to ep.
func (t *Tester) Test(ctx context.Context, ep *slotwire.Endpoint) slotwire.TestResult {
	now := t.now()
	data, _ := json.Marshal(map[string]string{"endpoint_id": ep.ID, "message": "A test event sent from Slotwire."})
	ev := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ep.TenantID, Type: slotwire.TestEventType,
		Data: data, CreatedAt: now}
	j := &store.Job{Endpoint: *ep, Payload: ev.BuildPayload(), Delivery: slotwire.Delivery{EventID: ev.ID}}
	began := time.Now()
	res, body := post(ctx, t.client, t.timeout, j, now)
	out := slotwire.TestResult{EventID: ev.ID, StatusCode: res.StatusCode, LatencyMS: time.Since(began).Milliseconds(), Body: body,
		Succeeded: res.Err == nil && res.StatusCode >= 200 && res.StatusCode < 300}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	return out
}
