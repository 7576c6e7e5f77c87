package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/signature"
)

// The text of an e-mail is bounded: the first 50 members of data, each
// on one line and cut short; the rest are counted.
func TestEmailTextBounded(t *testing.T) {
	var data strings.Builder
	data.WriteString(`{"note":"line one\nline two\r\u2028three","long":"` + strings.Repeat("é", 500) + `","n":{"a":[1, 2]}`)
	for i := range 60 {
		fmt.Fprintf(&data, `,"f%02d":%d`, i, i)
	}
	data.WriteString("}")
	ev := &slotwire.Event{ID: "evt_1", Type: "invoice.paid", Data: []byte(data.String()),
		Source: &slotwire.EventSource{App: "BC-US", Type: "service_order"}, CreatedAt: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	s := summarize(ev.BuildPayload(), "", "")
	text := s.text(map[string][]string{"Webhook-Id": {"evt_1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"}})
	for _, want := range []string{"Event: invoice.paid\n", "ID: evt_1\n", "Time: 2026-12-05T10:00:00.000Z\n",
		"Source: BC-US / service_order\n", "  note: line one line two  three\n", "  n: {\"a\":[1,2]}\n",
		"  f46: 46\n", "  … 13 more in event.json\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "headers X-Webhook-Id, X-Webhook-Timestamp and X-Webhook-Signature") {
		t.Errorf("text does not name the signature headers:\n%s", text)
	}
	if strings.Contains(text, "f47") || !strings.Contains(text, "  long: "+strings.Repeat("é", 200)+"…\n") {
		t.Errorf("text not bounded:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if len([]rune(line)) > 280 {
			t.Errorf("line of %d runes", len([]rune(line)))
		}
	}
}

// The message of a delivery: the shaped body attached and signed, the
// signature headers under X- names (the profile's own header kept), the
// subject from the event, the attempt log's headers masked.
func TestEmailMessage(t *testing.T) {
	const secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
	now := time.Unix(1796464800, 0)
	ev := &slotwire.Event{ID: "evt_1", Type: "appointment.created", Data: []byte(`{"id":"apt_1","note":"x"}`), CreatedAt: now}
	j := &store.Job{Payload: ev.BuildPayload(), Delivery: slotwire.Delivery{EventID: "evt_1", EventType: "appointment.created"},
		Endpoint: slotwire.Endpoint{ID: "ep_1", Type: slotwire.EndpointEmail, Email: "ops@example.com", Secret: secret,
			PayloadFormat: slotwire.FormatThin}}
	msg, sent, err := emailMessage(j, j.Payload, now)
	if err != nil {
		t.Fatal(err)
	}
	body := msg.Attachments[0].Data
	if msg.To != "ops@example.com" || msg.Subject != "[Slotwire] appointment.created evt_1" || msg.Attachments[0].Name != "event.json" ||
		string(body) != `{"id":"evt_1","type":"appointment.created","timestamp":"2026-12-05T10:00:00.000Z","data":{"id":"apt_1"}}` {
		t.Fatalf("message = %+v", msg)
	}
	h := msg.Headers
	if err := signature.Verify(secret, h["X-Webhook-Id"], h["X-Webhook-Timestamp"], h["X-Webhook-Signature"], body, now, time.Minute); err != nil {
		t.Fatalf("signature: %v (%v)", err, h)
	}
	if !strings.Contains(string(sent), "X-Webhook-Signature: "+slotwire.Masked) || strings.Contains(string(sent), h["X-Webhook-Signature"]) ||
		strings.Contains(string(sent), "ops@example.com") {
		t.Fatalf("attempt log headers = %q", sent)
	}
	j.Endpoint.SignatureProfile, j.Endpoint.SignatureHeader = signature.ProfileHexHMAC, "Stripe-Signature"
	msg, _, _ = emailMessage(j, j.Payload, now)
	if got := msg.Headers["X-Stripe-Signature"]; got != signature.HexHMAC(secret, msg.Attachments[0].Data) {
		t.Fatalf("hex profile headers = %v", msg.Headers)
	}
	if MailHeader("X-Signature-256") != "X-Signature-256" || MailHeader("webhook-id") != "X-Webhook-Id" {
		t.Fatal("MailHeader")
	}
}

// Without an SMTP server, an e-mail endpoint's attempt fails, to be
// retried, saying why.
func TestEmailWithoutSMTP(t *testing.T) {
	j := &store.Job{Payload: []byte(`{"id":"evt_1","data":{}}`), Endpoint: slotwire.Endpoint{Type: slotwire.EndpointEmail, Email: "ops@example.com"}}
	x := deliver(context.Background(), nil, nil, j, j.Payload, time.Now())
	if !errors.Is(x.res.Err, errNoSMTP) || x.res.Permanent || x.res.Accepted {
		t.Fatalf("result = %+v", x.res)
	}
}
