package scheduling_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/signature"
)

func allowPrivate(c *scheduling.Config) { c.Guard = &netguard.Guard{AllowPrivate: true} }

var confirmByEmail = map[string]any{"confirmations": map[string]any{"on": []string{"booked"}, "channels": []string{"email"}}}

// notificationOf returns the tenant's newest notification.
func (e *env) lastNotification(t *testing.T) map[string]any {
	t.Helper()
	l := e.must(t, http.StatusOK, "GET", "/v1/notifications", nil)
	data := l["data"].([]any)
	if len(data) == 0 {
		t.Fatal("no notification")
	}
	return data[0].(map[string]any)
}

// A booking's confirmation goes out by e-mail, rendered from the tenant's
// template in the company's time zone, and notification.created follows.
func TestConfirmationByEmail(t *testing.T) {
	t.Parallel()
	opt, smtp := withMail(t)
	e := newEnv(t, opt)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PATCH", "/v1/company", map[string]any{"timezone": "Europe/Brussels"})
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", confirmByEmail)
	wantError(t, e.do(t, "PUT", "/v1/notification-templates/confirmation", map[string]any{"subject": "Hi {nickname}", "body": "x"}),
		http.StatusBadRequest, "invalid_request", "unknown placeholder {nickname}")
	e.must(t, http.StatusOK, "PUT", "/v1/notification-templates/confirmation", map[string]any{
		"subject": "Booked: {service} on {start}", "body": "Dear {customer_name}, see you at {location} with {resources}."})
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(1, 10), "end": at(1, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer, "service_id": f.service, "location": "Room 2"})
	e.send(t)
	msgs := smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "jan@example.com" {
		t.Fatalf("messages = %+v", msgs)
	}
	raw := string(msgs[0].Data)
	if !strings.Contains(raw, "Subject: Booked: Intake on Tue 3 Mar 2026 11:00 CET") ||
		!strings.Contains(raw, "Dear Jan Janssens, see you at Room 2 with An Peeters.") {
		t.Fatalf("message = %s", raw)
	}
	ev := e.lastEvent(t, scheduling.TypeNotification)
	if get(ev, "message", "to") != "jan@example.com" || get(ev, "sync", "note") != "no hook" || ev["trigger"] != "booked" {
		t.Fatalf("notification.created = %v", ev)
	}
	if n := e.lastNotification(t); n["status"] != "sent" || len(n["log"].([]any)) != 2 {
		t.Fatalf("notification = %v", n)
	}
}

// hookReceiver answers the sync hook with answer, after delay; it keeps
// the requests.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []http.Header
	body [][]byte
}

// seen returns copies of the requests' headers and bodies so far.
func (h *hookReceiver) seen() ([]http.Header, [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]http.Header(nil), h.reqs...), append([][]byte(nil), h.body...)
}

func newHook(t *testing.T, delay time.Duration, status int, answer string) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs, h.body = append(h.reqs, r.Header.Clone()), append(h.body, b)
		h.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

// The confirmation's before hook decides: send, skip, override; a
// timeout, an error or an invalid answer sends the notification
// unchanged, and the log says why. The request is signed.
func TestSyncHooks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, answer    string
		delay           time.Duration
		status          int
		status2, to     string
		subject, logHas string
	}{
		{"send", `{"action":"send"}`, 0, 200, "sent", "jan@example.com", "is booked", "send (hook answered)"},
		{"skip", `{"action":"skip","reason":"customer opted out"}`, 0, 200, "skipped", "", "", "skip (customer opted out)"},
		{"override", `{"action":"send","override":{"subject":"Welcome!","to":"front@kine.example"}}`, 0, 200, "sent",
			"front@kine.example", "Welcome!", "send with override"},
		{"timeout", `{"action":"skip"}`, 800 * time.Millisecond, 200, "sent", "jan@example.com", "is booked", "timed out after 300ms"},
		{"error", `oops`, 0, 500, "sent", "jan@example.com", "is booked", "hook answered HTTP 500"},
		{"garbage", `{"action":"maybe"}`, 0, 200, "sent", "jan@example.com", "is booked", "hook answer invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opt, smtp := withMail(t)
			e := newEnv(t, opt, allowPrivate)
			f := e.fixture(t)
			e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", confirmByEmail)
			hook := newHook(t, c.delay, c.status, c.answer)
			h := e.must(t, http.StatusOK, "PUT", "/v1/sync-hooks/confirmation.before_send", map[string]any{"url": hook.URL, "timeout": "300ms"})
			e.book(t, at(1, 10), at(1, 11), f.person)
			e.must(t, http.StatusOK, "PATCH", "/v1/appointments/"+e.lastEvent(t, "appointment.created")["id"].(string),
				map[string]any{"customer_id": f.customer}) // no confirmation: only booked triggers one
			e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(2, 10), "end": at(2, 11),
				"resource_ids": []string{f.person}, "customer_id": f.customer})
			e.send(t)
			n := e.lastNotification(t)
			logText, _ := json.Marshal(n["log"])
			if n["status"] != c.status2 || !strings.Contains(string(logText), c.logHas) {
				t.Fatalf("notification = %v", n)
			}
			msgs := smtp.Messages()
			if c.to == "" {
				if len(msgs) != 0 || e.countEvents(t, scheduling.TypeNotification) != 0 {
					t.Fatalf("%d e-mails, %d events after a skip", len(msgs), e.countEvents(t, scheduling.TypeNotification))
				}
				return
			}
			last := msgs[len(msgs)-1]
			if last.To[0] != c.to || !strings.Contains(string(last.Data), c.subject) {
				t.Fatalf("e-mail to %v: %s", last.To, last.Data)
			}
			if reqs, _ := hook.seen(); len(reqs) != 2 { // one per notification (the first booking's and this one), never again
				t.Fatalf("hook asked %d times", len(reqs))
			}
			e.send(t)
			reqs, bodies := hook.seen()
			if len(reqs) != 2 {
				t.Fatal("hook asked again")
			}
			r := reqs[len(reqs)-1]
			if err := signature.Verify(h["secret"].(string), r.Get("webhook-id"), r.Get("webhook-timestamp"),
				r.Get("webhook-signature"), bodies[len(bodies)-1], t0.Add(time.Minute), 24*time.Hour*365*10); err != nil {
				t.Fatalf("hook request signature: %v", err)
			}
		})
	}
}

// Hooks are validated: a known name, a public URL unless the node allows
// private ones, a timeout up to 10 s; GET shows it with its secret;
// DELETE removes it.
func TestSyncHookSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantError(t, e.do(t, "PUT", "/v1/sync-hooks/confirmation.before_send", map[string]any{"url": "http://127.0.0.1:9/h"}),
		http.StatusBadRequest, "invalid_request", "not a public address")
	wantError(t, e.do(t, "PUT", "/v1/sync-hooks/payment.before_send", map[string]any{"url": "https://hooks.example.com/h"}),
		http.StatusNotFound, "not_found", "payment.before_send")
	wantError(t, e.do(t, "PUT", "/v1/sync-hooks/reminder.before_send", map[string]any{"url": "https://hooks.example.com/h", "timeout": "11s"}),
		http.StatusBadRequest, "invalid_request", "at most 10s")
	wantError(t, e.do(t, "GET", "/v1/sync-hooks/reminder.before_send", nil), http.StatusNotFound, "not_found", "reminder")
	_ = context.Background()
}

// An e-mail the SMTP server defers (451) is sent again later; one it
// refuses (550) fails; both are in the notification's log.
func TestNotificationEmailRetries(t *testing.T) {
	t.Parallel()
	opt, smtp := withMail(t)
	e := newEnv(t, opt)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", confirmByEmail)
	smtp.Reject(451, "4.7.1 greylisted, try again later")
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(1, 10), "end": at(1, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer})
	e.send(t)
	if n := e.lastNotification(t); n["status"] != "pending" || len(smtp.Messages()) != 0 {
		t.Fatalf("after a 451: %v", n)
	}
	e.setNow(t0.Add(31 * time.Second))
	e.send(t)
	n := e.lastNotification(t)
	if n["status"] != "sent" || len(smtp.Messages()) != 1 || n["attempts"].(float64) != 2 {
		t.Fatalf("after the retry: %v", n)
	}
	smtp.Reject(550, "5.1.1 no such mailbox")
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(2, 10), "end": at(2, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer})
	e.send(t)
	n = e.lastNotification(t)
	logText, _ := json.Marshal(n["log"])
	if n["status"] != "failed" || !strings.Contains(string(logText), "550") {
		t.Fatalf("after a 550: %v", n)
	}
}

// An erasure reaches the notifications too: their recipient and the
// appointment's customer in their data.
func TestErasureReachesNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{
		"confirmations": map[string]any{"on": []string{"booked"}, "channels": []string{"sms"}}})
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(1, 10), "end": at(1, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer})
	e.send(t)
	n := e.lastNotification(t)
	if raw, _ := json.Marshal(n); !strings.Contains(string(raw), "jan@example.com") {
		t.Fatalf("notification without the customer: %s", raw)
	}
	subject, p, err := erasure.FromRequest(&f.customer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if era := e.erase(t, subject, p); era.Counts["notifications"] != 1 {
		t.Fatalf("erasure = %+v", era)
	}
	n = e.must(t, http.StatusOK, "GET", "/v1/notifications/"+n["id"].(string), nil)
	if raw, _ := json.Marshal(n); strings.Contains(string(raw), "jan@example.com") || strings.Contains(string(raw), "Janssens") ||
		strings.Contains(string(raw), "470 12 34 56") {
		t.Fatalf("notification after the erasure: %s", raw)
	}
}

// Notifications that ended are deleted after the retention period; a
// pending one is kept.
func TestNotificationsPruned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *scheduling.Config) { c.Retention = time.Hour })
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{
		"confirmations": map[string]any{"on": []string{"booked"}, "channels": []string{"sms", "email"}}})
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(1, 10), "end": at(1, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer})
	e.send(t) // sms sent; email pending (no SMTP server here)
	n, err := e.svc.PruneNotifications(context.Background(), t0.Add(59*time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("pruned %d before the period, %v", n, err)
	}
	n, err = e.svc.PruneNotifications(context.Background(), t0.Add(61*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	l := e.must(t, http.StatusOK, "GET", "/v1/notifications", nil)["data"].([]any)
	if len(l) != 1 || get(l, 0, "status") != "pending" {
		t.Fatalf("left = %v", l)
	}
}
