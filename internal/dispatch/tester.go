package dispatch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/store"
)

// Tester sends a test event to an endpoint now, the way deliveries are
// sent (the same client, address checks, timeout, headers and signature),
// and reports what the receiver answered (POST /v1/endpoints/{id}/test).
// It stores nothing; API-only nodes have one too.
type Tester struct {
	sender *sender
	mail   *mail.Sender
	now    func() time.Time
}

// NewTester returns a Tester with the dispatcher's settings (Guard,
// Timeout, Transport, Mail, Now).
func NewTester(cfg Config) *Tester {
	cfg = cfg.withDefaults()
	return &Tester{sender: newSender(&cfg), mail: cfg.Mail, now: cfg.Now}
}

// Test sends a signed webhook.test event to ep (to an e-mail endpoint, a
// test e-mail).
func (t *Tester) Test(ctx context.Context, ep *slotwire.Endpoint) slotwire.TestResult {
	data, _ := json.Marshal(map[string]string{"endpoint_id": ep.ID, "message": "A test event sent from Slotwire."})
	return t.send(ctx, ep, slotwire.TestEventType, data)
}

// Verify sends a signed webhook.verification event carrying a random
// challenge to ep and reports whether the receiver echoed it: a 2xx whose
// body is the challenge, plain or as {"challenge":…}.
func (t *Tester) Verify(ctx context.Context, ep *slotwire.Endpoint) (bool, slotwire.TestResult) {
	challenge := base64.RawURLEncoding.EncodeToString(slotwire.RandomToken(24))
	data, _ := json.Marshal(map[string]string{"endpoint_id": ep.ID, "challenge": challenge})
	res := t.send(ctx, ep, slotwire.VerificationEventType, data)
	if !res.Succeeded {
		return false, res
	}
	body := strings.TrimSpace(res.Body)
	var echo struct {
		Challenge string `json:"challenge"`
	}
	_ = json.Unmarshal([]byte(body), &echo)
	return body == challenge || echo.Challenge == challenge, res
}

// send posts a signed event of typ with data to ep now.
func (t *Tester) send(ctx context.Context, ep *slotwire.Endpoint, typ string, data []byte) slotwire.TestResult {
	now := t.now()
	ev := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ep.TenantID, Type: typ,
		Data: data, CreatedAt: now}
	j := &store.Job{Endpoint: *ep, Payload: ev.BuildPayload(), Delivery: slotwire.Delivery{EventID: ev.ID, EventType: typ}}
	began := time.Now()
	x := deliver(ctx, t.sender, t.mail, j, j.Payload, now)
	res, body := x.res, x.body
	out := slotwire.TestResult{EventID: ev.ID, StatusCode: res.StatusCode, LatencyMS: time.Since(began).Milliseconds(), Body: body,
		Succeeded: res.Err == nil && (res.Accepted || res.StatusCode >= 200 && res.StatusCode < 300)}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	return out
}
