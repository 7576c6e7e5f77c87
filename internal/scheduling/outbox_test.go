package scheduling_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/scheduling"
)

// A failure after the domain write and before commit leaves nothing: no
// domain row, no event, no delivery.
func TestOutboxRollsBackTogether(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op    string
		table string // domain table that must not change
		call  func(e *env, t *testing.T, f fixture) resp
	}{
		{"appointment.create", "sched_appointments", func(e *env, t *testing.T, f fixture) resp {
			return e.book(t, at(1, 9), at(1, 10), f.person)
		}},
		{"customer.create", "sched_customers", func(e *env, t *testing.T, f fixture) resp {
			return e.do(t, "POST", "/v1/customers", map[string]any{"name": "Nobody"})
		}},
		{"resource.delete", "sched_resources", func(e *env, t *testing.T, f fixture) resp {
			return e.do(t, "DELETE", "/v1/resources/"+f.room, nil)
		}},
		{"group_event.create", "sched_group_events", func(e *env, t *testing.T, f fixture) resp {
			return e.do(t, "POST", "/v1/group-events", map[string]any{"name": "Yoga", "start": at(1, 18), "end": at(1, 19), "capacity": 3})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := e.fixture(t)
			e.createEndpoint(t, "https://example.com/hook", "*")
			rows := e.count(t, `SELECT COUNT(*) FROM `+tc.table)
			events := e.count(t, `SELECT COUNT(*) FROM events`)
			deliveries := e.count(t, `SELECT COUNT(*) FROM deliveries`)
			e.failBeforeCommit(tc.op)
			r := tc.call(e, t, f)
			if r.status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500: %s", r.status, r.body)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM `+tc.table); n != rows {
				t.Fatalf("%s has %d rows after the rollback, want %d", tc.table, n, rows)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM events`); n != events {
				t.Fatalf("%d events after the rollback, want %d", n, events)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM deliveries`); n != deliveries {
				t.Fatalf("%d deliveries after the rollback, want %d", n, deliveries)
			}
			// The same call succeeds once the failure is gone.
			e.failBeforeCommit("")
			if r := tc.call(e, t, f); r.status >= 300 {
				t.Fatalf("retry: %d %s", r.status, r.body)
			}
		})
	}
}

// A committed booking has exactly one event and one delivery per
// subscribed endpoint, and the dispatcher is woken for those endpoints.
func TestOutboxExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	a := e.createEndpoint(t, "https://a.example.com/hook", "appointment.*")
	b := e.createEndpoint(t, "https://b.example.com/hook", "appointment.created", "customer.*")
	c := e.createEndpoint(t, "https://c.example.com/hook", "customer.*")
	e.mu.Lock()
	e.woken = nil
	e.mu.Unlock()

	apt := e.book(t, at(1, 9), at(1, 10), f.person).id()
	if apt == "" {
		t.Fatal("booking failed")
	}
	var evID string
	n := e.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = ? AND type = 'appointment.created'`, e.tenant)
	if n != 1 {
		t.Fatalf("%d appointment.created events, want 1", n)
	}
	for _, ev := range e.eventsOf(t, e.tenant) {
		if ev.Type == "appointment.created" {
			evID = ev.ID
		}
	}
	for ep, want := range map[string]int{a.ID: 1, b.ID: 1, c.ID: 0} {
		if got := e.count(t, `SELECT COUNT(*) FROM deliveries WHERE event_id = ? AND endpoint_id = ?`, evID, ep); got != want {
			t.Fatalf("endpoint %s has %d deliveries of the booking, want %d", ep, got, want)
		}
	}
	if got := e.count(t, `SELECT COUNT(*) FROM deliveries WHERE event_id = ?`, evID); got != 2 {
		t.Fatalf("%d deliveries of the booking, want 2", got)
	}
	e.mu.Lock()
	woken := slices.Clone(e.woken)
	e.mu.Unlock()
	slices.Sort(woken)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(woken, want) {
		t.Fatalf("woke %v, want %v", woken, want)
	}
	// A refused booking (conflict) emits and wakes nothing.
	e.mu.Lock()
	e.woken = nil
	e.mu.Unlock()
	wantError(t, e.book(t, at(1, 9), at(1, 10), f.person), http.StatusConflict, "conflict", apt)
	if n := e.count(t, `SELECT COUNT(*) FROM events WHERE type = 'appointment.created'`); n != 1 {
		t.Fatalf("%d appointment.created after a conflict, want 1", n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.woken) != 0 {
		t.Fatalf("woke %v after a conflict", e.woken)
	}
}

// The service methods work without HTTP and report errors as
// *slotwire.Error.
func TestServiceDirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.svc.Resources.Create(ctx, e.tenant, scheduling.ResourceFields{Name: "Van 1", Kind: "vehicle"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Fields.CustomFields == nil || r.ID[:4] != scheduling.PrefixResource {
		t.Fatalf("created: %+v", r)
	}
	a, err := e.svc.CreateAppointment(ctx, e.tenant, scheduling.AppointmentInput{ResourceIDs: []string{r.ID}})
	if a != nil || err == nil {
		t.Fatalf("appointment without times: %v %v", a, err)
	}
	_, err = e.svc.GetAppointment(ctx, e.tenant, "apt_x")
	var nf interface{ Error() string }
	if !errors.As(err, &nf) || err.Error() != "not_found: appointment apt_x not found" {
		t.Fatalf("GetAppointment: %v", err)
	}
}

// Every scheduling event carries the ordering key of the record it is
// about: the appointment, the group event (for its bookings too) or the
// record itself, so a key-ordered endpoint gets one record's changes in
// order.
func TestEventsCarryOrderingKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	appt := e.book(t, at(1, 9), at(1, 10), f.person).id()
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+appt+"/cancel", map[string]any{"reason": "ill"})
	gid := e.create(t, "/v1/group-events", map[string]any{"name": "Yoga", "start": at(2, 18), "end": at(2, 19), "capacity": 3})
	e.must(t, http.StatusCreated, "POST", "/v1/group-events/"+gid+"/bookings", map[string]any{"customer_id": f.customer})
	seen := map[string]bool{}
	for _, ev := range e.eventsOf(t, e.tenant) {
		var data map[string]any
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		want, _ := data["id"].(string)
		switch {
		case strings.HasPrefix(ev.Type, "group_event.booking."):
			want, _ = data["group_event_id"].(string)
		case ev.Type == "company.updated":
			want = "company"
		}
		if want == "" || ev.OrderingKey != want {
			t.Errorf("%s: ordering key %q, want %q", ev.Type, ev.OrderingKey, want)
		}
		seen[ev.Type] = true
	}
	for _, typ := range []string{"appointment.created", "appointment.cancelled", "customer.created", "group_event.created", "group_event.booking.created"} {
		if !seen[typ] {
			t.Errorf("no %s event was checked", typ)
		}
	}
}

// Appointment events carry their back office's source: an endpoint that
// accepts another app gets none of them.
func TestAppointmentsRouteBySource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	us := e.createEndpoint(t, "https://example.com/us", "appointment.*")
	us.SourceApps = []string{"BC-US"}
	eu := e.createEndpoint(t, "https://example.com/eu", "appointment.*")
	eu.SourceApps, eu.SourceTypes = []string{"BC-EU"}, []string{"service_order"}
	for _, ep := range []*slotwire.Endpoint{us, eu} {
		if err := e.db.UpdateEndpoint(context.Background(), ep); err != nil {
			t.Fatal(err)
		}
	}
	open := e.createEndpoint(t, "https://example.com/any", "appointment.*")
	e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10),
		"resource_ids": []string{f.person}, "source": map[string]any{"app": "BC-US", "type": "service_order", "job_no": "SO-1"}})
	for _, c := range []struct {
		ep   *slotwire.Endpoint
		want int
	}{{us, 1}, {eu, 0}, {open, 1}} {
		if n := e.count(t, `SELECT COUNT(*) FROM deliveries WHERE endpoint_id = ?`, c.ep.ID); n != c.want {
			t.Errorf("%s: %d deliveries, want %d", c.ep.URL, n, c.want)
		}
	}
	ev := e.lastEvent(t, "appointment.created")
	if get(ev, "source", "app") != "BC-US" {
		t.Fatalf("event data source = %v", ev["source"])
	}
}
