package scheduling_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppointmentLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)

	// Booking without end takes the service's duration.
	a := e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{
		"start": at(1, 9), "resource_ids": []string{f.person, f.room}, "customer_id": f.customer, "service_id": f.service,
		"location": "Room 2", "subject": "Intake", "notes": "knee", "custom_fields": map[string]any{"referral": "GP"},
		"origin": "online", "source": map[string]any{"app": "BC", "type": "SERVICE", "job_no": "SO-1", "task_no": "10000"},
	})
	id := a["id"].(string)
	if a["end"] != at(1, 9.75) || a["status"] != "scheduled" || a["origin"] != "online" || a["cancellation"] != nil {
		t.Fatalf("created appointment: %v", a)
	}
	if got := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+id, nil); get(got, "resource_ids", 1) != f.room || get(got, "source", "job_no") != "SO-1" {
		t.Fatalf("GET appointment: %v", got)
	}
	ev := e.lastEvent(t, "appointment.created")
	checks := map[string][2]any{
		"id":               {get(ev, "id"), id},
		"origin":           {get(ev, "origin"), "online"},
		"customer.name":    {get(ev, "customer", "name"), "Jan Janssens"},
		"customer.email":   {get(ev, "customer", "email"), "jan@example.com"},
		"resources[0].id":  {get(ev, "resources", 0, "id"), f.person},
		"resources[0].tz":  {get(ev, "resources", 0, "timezone"), "Europe/Brussels"},
		"resources[1].id":  {get(ev, "resources", 1, "name"), "Room 2"},
		"service.name":     {get(ev, "service", "name"), "Intake"},
		"service.currency": {get(ev, "service", "currency"), "EUR"},
		"source.app":       {get(ev, "source", "app"), "BC"},
		"source.task_no":   {get(ev, "source", "task_no"), "10000"},
		"custom_fields":    {get(ev, "custom_fields", "referral"), "GP"},
		"start":            {get(ev, "start"), at(1, 9)},
	}
	for k, c := range checks {
		if c[0] != c[1] {
			t.Errorf("appointment.created %s = %v, want %v", k, c[0], c[1])
		}
	}

	// PATCH of non-time fields: appointment.updated with previous.
	p := e.must(t, http.StatusOK, "PATCH", "/v1/appointments/"+id, map[string]any{"notes": "left knee", "status": "confirmed", "source": map[string]any{"task_no": "20000"}})
	if p["notes"] != "left knee" || p["status"] != "confirmed" || get(p, "source", "job_no") != "SO-1" || get(p, "source", "task_no") != "20000" {
		t.Fatalf("patched: %v", p)
	}
	ev = e.lastEvent(t, "appointment.updated")
	if get(ev, "previous", "notes") != "knee" || get(ev, "previous", "status") != "scheduled" || get(ev, "previous", "source", "task_no") != "10000" ||
		len(ev["previous"].(map[string]any)) != 3 || get(ev, "customer", "name") != "Jan Janssens" {
		t.Fatalf("appointment.updated: previous %v", ev["previous"])
	}
	// Times only change through reschedule.
	for _, body := range []map[string]any{{"start": at(2, 9)}, {"end": at(2, 9)}, {"notes": "x", "end": at(2, 9)}} {
		wantError(t, e.do(t, "PATCH", "/v1/appointments/"+id, body), http.StatusUnprocessableEntity, "unprocessable", "reschedule")
	}
	wantError(t, e.do(t, "PATCH", "/v1/appointments/"+id, map[string]any{"status": "no_show"}), http.StatusUnprocessableEntity, "unprocessable", "no-show")

	// Reschedule: appointment.rescheduled with previous start and end.
	r := e.must(t, http.StatusOK, "POST", "/v1/appointments/"+id+"/reschedule", map[string]any{"start": at(2, 14), "end": at(2, 15)})
	if r["start"] != at(2, 14) || r["end"] != at(2, 15) || r["notes"] != "left knee" {
		t.Fatalf("rescheduled: %v", r)
	}
	ev = e.lastEvent(t, "appointment.rescheduled")
	if get(ev, "previous", "start") != at(1, 9) || get(ev, "previous", "end") != at(1, 9.75) || ev["start"] != at(2, 14) || get(ev, "service", "name") != "Intake" {
		t.Fatalf("appointment.rescheduled: %v", ev)
	}
	wantError(t, e.do(t, "POST", "/v1/appointments/"+id+"/reschedule", map[string]any{"start": at(2, 14), "end": at(2, 13)}), 422, "unprocessable", "after start")

	// Cancel: appointment.cancelled with reason and cancelled_by.
	c := e.must(t, http.StatusOK, "POST", "/v1/appointments/"+id+"/cancel", map[string]any{"reason": "ill", "cancelled_by": "customer"})
	if c["status"] != "cancelled" || get(c, "cancellation", "reason") != "ill" || get(c, "cancellation", "cancelled_by") != "customer" {
		t.Fatalf("cancelled: %v", c)
	}
	ev = e.lastEvent(t, "appointment.cancelled")
	if ev["reason"] != "ill" || ev["cancelled_by"] != "customer" || ev["status"] != "cancelled" || get(ev, "previous", "status") != "confirmed" || get(ev, "customer", "id") != f.customer {
		t.Fatalf("appointment.cancelled: %v", ev)
	}
	wantError(t, e.do(t, "POST", "/v1/appointments/"+id+"/cancel", map[string]any{}), http.StatusConflict, "conflict", "already cancelled")
	wantError(t, e.do(t, "POST", "/v1/appointments/"+id+"/reschedule", map[string]any{"start": at(3, 9), "end": at(3, 10)}), http.StatusConflict, "conflict", "cancelled")
	wantError(t, e.do(t, "PATCH", "/v1/appointments/"+id, map[string]any{"status": "scheduled"}), http.StatusUnprocessableEntity, "unprocessable", "cancelled")
	wantError(t, e.do(t, "POST", "/v1/appointments/"+id+"/cancel", map[string]any{"cancelled_by": "martians"}), http.StatusBadRequest, "invalid_request", "cancelled_by")
	// Notes of a cancelled appointment can still change.
	e.must(t, http.StatusOK, "PATCH", "/v1/appointments/"+id, map[string]any{"notes": "called to cancel"})

	// Delete: appointment.deleted carries it as it was.
	e.must(t, http.StatusNoContent, "DELETE", "/v1/appointments/"+id, nil)
	ev = e.lastEvent(t, "appointment.deleted")
	if ev["id"] != id || ev["status"] != "cancelled" || get(ev, "resources", 0, "id") != f.person {
		t.Fatalf("appointment.deleted: %v", ev)
	}
	wantError(t, e.do(t, "GET", "/v1/appointments/"+id, nil), http.StatusNotFound, "not_found", id)

	want := []string{"appointment.created", "appointment.updated", "appointment.rescheduled", "appointment.cancelled", "appointment.updated", "appointment.deleted"}
	got := e.eventTypes(t)
	if strings.Join(got[5:], " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want fixture then %v", got, want)
	}
}

func TestNoShow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	future := e.book(t, at(1, 9), at(1, 10), f.person).id()
	wantError(t, e.do(t, "POST", "/v1/appointments/"+future+"/no-show", nil), http.StatusUnprocessableEntity, "unprocessable", "not started")
	e.setNow(t0.Add(26 * time.Hour)) // day 1, 10:00
	n := e.must(t, http.StatusOK, "POST", "/v1/appointments/"+future+"/no-show", nil)
	if n["status"] != "no_show" {
		t.Fatalf("no-show: %v", n)
	}
	ev := e.lastEvent(t, "appointment.no_show")
	if ev["status"] != "no_show" || get(ev, "previous", "status") != "scheduled" || get(ev, "resources", 0, "id") != f.person {
		t.Fatalf("appointment.no_show: %v", ev)
	}
	wantError(t, e.do(t, "POST", "/v1/appointments/"+future+"/no-show", nil), http.StatusConflict, "conflict", "already no_show")
	wantError(t, e.do(t, "POST", "/v1/appointments/"+future+"/cancel", nil), http.StatusConflict, "conflict", "no_show")
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	first := e.book(t, at(1, 9), at(1, 10), f.person)
	if first.status != http.StatusCreated {
		t.Fatalf("book: %d %s", first.status, first.body)
	}
	a := first.id()
	tests := []struct {
		name       string
		start, end string
		resources  []string
		conflictID string // "" = books fine
	}{
		{"same time", at(1, 9), at(1, 10), []string{f.person}, a},
		{"overlaps start", at(1, 8.5), at(1, 9.25), []string{f.person}, a},
		{"inside", at(1, 9.25), at(1, 9.5), []string{f.person}, a},
		{"around", at(1, 8), at(1, 11), []string{f.room, f.person}, a},
		{"back to back before", at(1, 8), at(1, 9), []string{f.person}, ""},
		{"back to back after", at(1, 10), at(1, 11), []string{f.person}, ""},
		{"other resource", at(1, 9), at(1, 10), []string{f.room}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.book(t, tc.start, tc.end, tc.resources...)
			if tc.conflictID == "" {
				if r.status != http.StatusCreated {
					t.Fatalf("booking refused: %d %s", r.status, r.body)
				}
				e.must(t, http.StatusNoContent, "DELETE", "/v1/appointments/"+r.id(), nil)
				return
			}
			wantError(t, r, http.StatusConflict, "conflict", tc.conflictID)
			if !strings.Contains(r.message(), f.person) {
				t.Fatalf("conflict message %q does not name the resource", r.message())
			}
		})
	}
	// Rescheduling another appointment onto a is refused too, and changing
	// resources through PATCH is checked.
	b := e.book(t, at(1, 11), at(1, 12), f.person).id()
	wantError(t, e.do(t, "POST", "/v1/appointments/"+b+"/reschedule", map[string]any{"start": at(1, 9.5), "end": at(1, 10.5)}), http.StatusConflict, "conflict", a)
	c := e.book(t, at(1, 9), at(1, 10), f.room).id()
	wantError(t, e.do(t, "PATCH", "/v1/appointments/"+c, map[string]any{"resource_ids": []string{f.room, f.person}}), http.StatusConflict, "conflict", a)
	// An appointment may be moved within its own slot.
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+a+"/reschedule", map[string]any{"start": at(1, 9.5), "end": at(1, 10.5)})
	// Cancelled appointments free the resource.
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+a+"/cancel", map[string]any{"reason": "moved"})
	if r := e.book(t, at(1, 9.5), at(1, 10.5), f.person); r.status != http.StatusCreated {
		t.Fatalf("booking a cancelled slot: %d %s", r.status, r.body)
	}
	if n := e.countEvents(t, "appointment.rescheduled"); n != 1 {
		t.Fatalf("%d appointment.rescheduled, want 1", n)
	}
}

func TestShiftRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	// The person works 8-12 and 12-16 (adjacent shifts) and 17-18 on day 1.
	for _, s := range [][2]float64{{8, 12}, {12, 16}, {17, 18}} {
		e.create(t, "/v1/shifts", map[string]any{"resource_id": f.person, "start": at(1, s[0]), "end": at(1, s[1])})
	}
	tests := []struct {
		name       string
		start, end float64
		ok         bool
	}{
		{"inside one shift", 9, 10, true},
		{"across adjacent shifts", 11, 13, true},
		{"exactly a shift", 17, 18, true},
		{"before shifts", 7, 8.5, false},
		{"across a gap", 15.5, 17.5, false},
		{"after shifts", 18, 19, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.book(t, at(1, tc.start), at(1, tc.end), f.person)
			if tc.ok {
				if r.status != http.StatusCreated {
					t.Fatalf("refused: %d %s", r.status, r.body)
				}
				e.must(t, http.StatusNoContent, "DELETE", "/v1/appointments/"+r.id(), nil)
				return
			}
			wantError(t, r, http.StatusConflict, "conflict", "no shift")
		})
	}
	// The room has no shifts: always bookable.
	if r := e.book(t, at(1, 22), at(1, 23), f.room); r.status != http.StatusCreated {
		t.Fatalf("room without shifts: %d %s", r.status, r.body)
	}
	// Rescheduling out of a shift is refused too.
	a := e.book(t, at(1, 9), at(1, 10), f.person).id()
	wantError(t, e.do(t, "POST", "/v1/appointments/"+a+"/reschedule", map[string]any{"start": at(2, 9), "end": at(2, 10)}), http.StatusConflict, "conflict", "no shift")
}

// Concurrent bookings of one slot: exactly one wins, the others get 409.
func TestConcurrentBookings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.book(t, at(3, 9), at(3, 10), f.person).status
		}()
	}
	wg.Wait()
	close(statuses)
	won := 0
	for s := range statuses {
		switch s {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", s)
		}
	}
	if won != 1 || e.countEvents(t, "appointment.created") != 1 {
		t.Fatalf("%d bookings won, %d appointment.created; want 1 and 1", won, e.countEvents(t, "appointment.created"))
	}
}
