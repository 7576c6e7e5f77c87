package scheduling_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/smtptest"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fire moves the clock to now, fires what is due and sends the
// notifications produced; it returns how many timers fired.
func (e *env) fire(t *testing.T, now time.Time) int {
	t.Helper()
	e.setNow(now)
	n, err := e.svc.FireDue(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	e.send(t)
	return n
}

// send sends the notifications due.
func (e *env) send(t *testing.T) {
	t.Helper()
	if _, err := e.svc.SendDue(context.Background(), 1000); err != nil {
		t.Fatal(err)
	}
}

// withMail gives the scheduling core an SMTP server on loopback.
func withMail(t *testing.T) (envOption, *smtptest.Server) {
	srv := smtptest.New(t, smtptest.Options{})
	m, err := mail.New(mail.Config{URL: srv.URL, From: "Kine Centrum <noreply@kine.example>"})
	if err != nil {
		t.Fatal(err)
	}
	return func(c *scheduling.Config) { c.Mailer = m }, srv
}

var reminderSettings = map[string]any{
	"confirmations": map[string]any{"on": []string{"booked", "rescheduled", "cancelled"}, "channels": []string{"email"}},
	"reminders":     []map[string]any{{"before": "24h", "channels": []string{"email", "sms"}}, {"before": "1h", "channels": []string{"email"}}},
	"starting":      []string{"-15m", "0s"},
	"ended":         []string{"10m"},
}

// Reminders, starting and ended fire at their moments, once; they move
// when the appointment is rescheduled and go when it is cancelled.
func TestTimersFollowTheAppointment(t *testing.T) {
	t.Parallel()
	opt, _ := withMail(t)
	e := newEnv(t, opt)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", reminderSettings)
	start := mustTime(t, at(3, 10)) // more than 24 h ahead
	id := e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(3, 10), "end": at(3, 11),
		"resource_ids": []string{f.person}, "customer_id": f.customer})["id"].(string)
	e.send(t)
	if c := e.lastEvent(t, scheduling.TypeNotification); c["kind"] != "confirmation" || c["trigger"] != "booked" ||
		get(c, "recipient", "email") != "jan@example.com" {
		t.Fatalf("confirmation = %v", c)
	}
	if n := e.fire(t, start.Add(-24*time.Hour-time.Second)); n != 0 {
		t.Fatalf("%d fired a second early", n)
	}
	if n := e.fire(t, start.Add(-24*time.Hour)); n != 2 { // email and sms
		t.Fatalf("%d fired at the 24 h reminder", n)
	}
	r := e.lastEvent(t, scheduling.TypeReminder)
	if r["before"] != "24h0m0s" || r["late"] != false || r["id"] != id || get(r, "customer", "email") != "jan@example.com" ||
		mustTime(t, r["due_at"].(string)) != start.Add(-24*time.Hour) {
		t.Fatalf("reminder = %v", r)
	}
	if n := e.fire(t, start.Add(-24*time.Hour)); n != 0 {
		t.Fatal("a timer fired twice")
	}
	// Moved a day later: the remaining timers move with it.
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+id+"/reschedule", map[string]any{"start": at(4, 10), "end": at(4, 11)})
	if n := e.fire(t, start.Add(-time.Hour)); n != 0 {
		t.Fatalf("%d fired at the old start's 1 h reminder", n)
	}
	moved := mustTime(t, at(4, 10))
	if n := e.fire(t, moved.Add(-24*time.Hour)); n != 2 {
		t.Fatalf("%d fired at the new 24 h reminder", n)
	}
	for _, step := range []struct {
		at   time.Time
		want int
	}{{moved.Add(-time.Hour), 1}, {moved.Add(-15 * time.Minute), 1}, {moved, 1}, {moved.Add(70 * time.Minute), 1}} {
		if n := e.fire(t, step.at); n != step.want {
			t.Fatalf("%d fired at %s, want %d", n, step.at, step.want)
		}
	}
	if o := e.lastEvent(t, scheduling.TypeEnded); o["offset"] != "10m0s" {
		t.Fatalf("ended = %v", o)
	}
	if n := e.countEvents(t, scheduling.TypeStarting); n != 2 {
		t.Fatalf("%d appointment.starting, want 2 (-15m and 0s)", n)
	}
	// Cancelled: nothing more.
	other := e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(5, 10), "end": at(5, 11),
		"resource_ids": []string{f.person}})["id"].(string)
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+other+"/cancel", map[string]any{"reason": "ill"})
	if n := e.fire(t, mustTime(t, at(6, 0))); n != 0 {
		t.Fatalf("%d fired for a cancelled appointment", n)
	}
}

// A reminder whose moment passed before the booking never fires; the
// others do.
func TestBookedCloserThanAReminder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", reminderSettings)
	e.setNow(mustTime(t, at(1, 9.5)))
	e.book(t, at(1, 10), at(1, 11), f.person)          // 30 minutes ahead
	if n := e.fire(t, mustTime(t, at(2, 0))); n != 3 { // starting -15m, starting 0s, ended +10m
		t.Fatalf("%d fired", n)
	}
	if n := e.countEvents(t, scheduling.TypeReminder); n != 0 {
		t.Fatalf("%d reminders for a booking closer than both", n)
	}
}

// A timer due while no node ran fires when one starts again, once,
// marked late with its original due time; a new settings table moves the
// timers of appointments already booked.
func TestLateTimerAfterRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	e.book(t, at(2, 10), at(2, 11), f.person)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{"reminders": []map[string]any{{"before": "2h", "channels": []string{"sms"}}}})
	due := mustTime(t, at(2, 8))
	// "Down" from before the reminder until 10 minutes after it: a new
	// service (a restarted node) on the same database fires it.
	restarted := scheduling.New(scheduling.Config{Store: e.db, Now: func() time.Time { return due.Add(10 * time.Minute) }})
	n, err := restarted.FireDue(context.Background(), 100)
	if err != nil || n != 1 {
		t.Fatalf("fired %d, %v", n, err)
	}
	r := e.lastEvent(t, scheduling.TypeReminder)
	if r["late"] != true || mustTime(t, r["due_at"].(string)) != due || r["channel"] != "sms" {
		t.Fatalf("late reminder = %v", r)
	}
	if n := e.fire(t, due.Add(11*time.Minute)); n != 0 {
		t.Fatal("fired again")
	}
	sms := e.lastEvent(t, scheduling.TypeNotification)
	if sms["kind"] != "reminder" || sms["channel"] != "sms" || sms["before"] != "2h0m0s" {
		t.Fatalf("notification = %v", sms)
	}
}

// Firing from several loops at once fires each timer once.
func TestTimersFireOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{"ended": []string{}})
	for h := 0; h < 20; h++ {
		e.book(t, at(1, float64(h)/2), at(1, float64(h)/2+0.25), f.person)
	}
	e.setNow(mustTime(t, at(2, 0)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := e.svc.FireDue(context.Background(), 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if total != 20 || e.countEvents(t, scheduling.TypeStarting) != 20 {
		t.Fatalf("fired %d, %d events", total, e.countEvents(t, scheduling.TypeStarting))
	}
}

func TestNotificationSettingsValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	many := []map[string]any{}
	for i := range 11 {
		many = append(many, map[string]any{"before": (time.Duration(i+1) * time.Hour).String(), "channels": []string{"email"}})
	}
	for _, c := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"reminders": []map[string]any{{"before": "soon", "channels": []string{"email"}}}}, "not a duration"},
		{map[string]any{"reminders": []map[string]any{{"before": "0s", "channels": []string{"email"}}}}, "at least 1s"},
		{map[string]any{"reminders": []map[string]any{{"before": "1h", "channels": []string{"fax"}}}}, "fax"},
		{map[string]any{"reminders": []map[string]any{{"before": "1h"}}}, "at least one channel"},
		{map[string]any{"confirmations": map[string]any{"on": []string{"paid"}, "channels": []string{"email"}}}, "paid"},
		{map[string]any{"starting": []string{"0s", "0s"}}, "twice"},
		{map[string]any{"reminder": []string{}}, "unknown field"},
		{map[string]any{"reminders": many}, "at most 10 reminders"},
	} {
		wantError(t, e.do(t, "PUT", "/v1/notification-settings", c.body), http.StatusBadRequest, "invalid_request", c.msg)
	}
	got := e.must(t, http.StatusOK, "GET", "/v1/notification-settings", nil)
	if s := get(got, "starting"); len(s.([]any)) != 1 || s.([]any)[0] != "0s" {
		t.Fatalf("defaults = %v", got)
	}
}

// An endpoint's own offset: appointment.starting fires at it too, and
// only that endpoint gets it; the other gets the tenant's (the moment
// itself). Setting the offset after the booking moves the timers.
func TestEndpointOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{"ended": []string{}})
	early := e.createEndpoint(t, "https://erp.example.com/early", "appointment.starting").ID
	plain := e.createEndpoint(t, "https://erp.example.com/plain", "appointment.starting").ID
	e.book(t, at(1, 10), at(1, 11), f.person)
	wantError(t, e.do(t, "PATCH", "/v1/endpoints/"+early, map[string]any{"offset": "soon"}), http.StatusBadRequest, "invalid_request", "offset")
	if r := e.must(t, http.StatusOK, "PATCH", "/v1/endpoints/"+early, map[string]any{"offset": "-15m"}); r["offset"] != "-15m0s" {
		t.Fatalf("endpoint = %v", r)
	}
	start := mustTime(t, at(1, 10))
	deliveries := func(ep string) int {
		return e.count(t, `SELECT COUNT(*) FROM deliveries WHERE endpoint_id = ? AND event_type = 'appointment.starting'`, ep)
	}
	if n := e.fire(t, start.Add(-15*time.Minute)); n != 1 || deliveries(early) != 1 || deliveries(plain) != 0 {
		t.Fatalf("at -15m: fired %d, early %d, plain %d", n, deliveries(early), deliveries(plain))
	}
	if o := e.lastEvent(t, scheduling.TypeStarting); o["offset"] != "-15m0s" {
		t.Fatalf("event = %v", o)
	}
	if n := e.fire(t, start); n != 1 || deliveries(early) != 1 || deliveries(plain) != 1 {
		t.Fatalf("at the start: fired %d, early %d, plain %d", n, deliveries(early), deliveries(plain))
	}
}
