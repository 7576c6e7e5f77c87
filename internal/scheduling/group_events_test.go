package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestGroupEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	var customers []string
	for i := range 3 {
		customers = append(customers, e.create(t, "/v1/customers", map[string]any{"name": fmt.Sprint("Customer ", i)}))
	}
	g := e.must(t, http.StatusCreated, "POST", "/v1/group-events", map[string]any{
		"name": "Back school", "start": at(1, 18), "end": at(1, 19), "capacity": 2, "resource_ids": []string{f.room}, "service_id": f.service,
	})
	gid := g["id"].(string)
	if g["booked"] != 0.0 || g["capacity"] != 2.0 {
		t.Fatalf("group event: %v", g)
	}
	ev := e.lastEvent(t, "group_event.created")
	if get(ev, "resources", 0, "name") != "Room 2" || get(ev, "service", "id") != f.service {
		t.Fatalf("group_event.created: %v", ev)
	}
	other := e.create(t, "/v1/group-events", map[string]any{"name": "Back school 2", "start": at(8, 18), "end": at(8, 19), "capacity": 1})

	book := func(gev, customer string) resp {
		return e.do(t, "POST", "/v1/group-events/"+gev+"/bookings", map[string]any{"customer_id": customer})
	}
	b0 := book(gid, customers[0])
	if b0.status != http.StatusCreated || b0.obj()["status"] != "booked" {
		t.Fatalf("booking: %d %s", b0.status, b0.body)
	}
	ev = e.lastEvent(t, "group_event.booking.created")
	if ev["id"] != b0.id() || get(ev, "customer", "name") != "Customer 0" || get(ev, "group_event", "booked") != 1.0 || get(ev, "group_event", "service", "name") != "Intake" {
		t.Fatalf("group_event.booking.created: %v", ev)
	}
	wantError(t, book(gid, customers[0]), http.StatusConflict, "conflict", "already has a seat")
	b1 := book(gid, customers[1])
	if b1.status != http.StatusCreated {
		t.Fatalf("second booking: %d %s", b1.status, b1.body)
	}
	wantError(t, book(gid, customers[2]), http.StatusConflict, "conflict", "full")
	wantError(t, book(gid, "cus_nope"), http.StatusUnprocessableEntity, "unprocessable", "cus_nope")
	if g := e.must(t, http.StatusOK, "GET", "/v1/group-events/"+gid, nil); g["booked"] != 2.0 {
		t.Fatalf("booked = %v, want 2", g["booked"])
	}
	// Capacity cannot drop below the seats booked.
	wantError(t, e.do(t, "PATCH", "/v1/group-events/"+gid, map[string]any{"capacity": 1}), http.StatusConflict, "conflict", "below")

	// Cancelling a seat frees it.
	c := e.must(t, http.StatusOK, "DELETE", "/v1/group-events/"+gid+"/bookings/"+b1.id(), nil)
	if c["status"] != "cancelled" || c["cancelled_at"] == nil {
		t.Fatalf("cancelled booking: %v", c)
	}
	ev = e.lastEvent(t, "group_event.booking.cancelled")
	if ev["id"] != b1.id() || ev["cancelled_by"] != "staff" || get(ev, "group_event", "booked") != 1.0 {
		t.Fatalf("group_event.booking.cancelled: %v", ev)
	}
	wantError(t, e.do(t, "DELETE", "/v1/group-events/"+gid+"/bookings/"+b1.id(), nil), http.StatusConflict, "conflict", "already cancelled")
	wantError(t, e.do(t, "DELETE", "/v1/group-events/"+other+"/bookings/"+b0.id(), nil), http.StatusNotFound, "not_found", b0.id())
	b2 := book(gid, customers[2])
	if b2.status != http.StatusCreated {
		t.Fatalf("booking the freed seat: %d %s", b2.status, b2.body)
	}

	// Rebook customer 0 to the other event (capacity 1).
	rb := e.must(t, http.StatusOK, "POST", "/v1/group-events/"+gid+"/bookings/"+b0.id()+"/rebook", map[string]any{"group_event_id": other})
	if rb["group_event_id"] != other || rb["id"] != b0.id() {
		t.Fatalf("rebooked: %v", rb)
	}
	ev = e.lastEvent(t, "group_event.booking.rebooked")
	if get(ev, "group_event", "id") != other || get(ev, "group_event", "booked") != 1.0 || get(ev, "previous", "group_event_id") != gid ||
		get(ev, "previous", "group_event", "booked") != 1.0 || get(ev, "customer", "id") != customers[0] {
		t.Fatalf("group_event.booking.rebooked: %v", ev)
	}
	// The other event is now full: rebooking customer 2 there is refused
	// and leaves everything as it was.
	wantError(t, e.do(t, "POST", "/v1/group-events/"+gid+"/bookings/"+b2.id()+"/rebook", map[string]any{"group_event_id": other}), http.StatusConflict, "conflict", "full")
	wantError(t, e.do(t, "POST", "/v1/group-events/"+gid+"/bookings/"+b2.id()+"/rebook", map[string]any{"group_event_id": gid}), http.StatusUnprocessableEntity, "unprocessable", "already")
	wantError(t, e.do(t, "POST", "/v1/group-events/"+gid+"/bookings/"+b2.id()+"/rebook", map[string]any{"group_event_id": "gev_nope"}), http.StatusUnprocessableEntity, "unprocessable", "gev_nope")
	for id, want := range map[string]float64{gid: 1, other: 1} {
		if g := e.must(t, http.StatusOK, "GET", "/v1/group-events/"+id, nil); g["booked"] != want {
			t.Fatalf("%s booked = %v, want %v", id, g["booked"], want)
		}
	}
	l := e.must(t, http.StatusOK, "GET", "/v1/group-events/"+gid+"/bookings", nil)
	if n := len(l["data"].([]any)); n != 2 { // b1 (cancelled) and b2
		t.Fatalf("%d bookings listed, want 2: %v", n, l)
	}

	// PATCH: updated with previous.
	e.must(t, http.StatusOK, "PATCH", "/v1/group-events/"+gid, map[string]any{"capacity": 5, "name": "Back school (big)"})
	ev = e.lastEvent(t, "group_event.updated")
	if get(ev, "previous", "capacity") != 2.0 || get(ev, "previous", "name") != "Back school" || ev["capacity"] != 5.0 {
		t.Fatalf("group_event.updated: %v", ev)
	}

	// Deleting a group event cancels its seats first.
	e.must(t, http.StatusNoContent, "DELETE", "/v1/group-events/"+gid, nil)
	ev = e.lastEvent(t, "group_event.booking.cancelled")
	if ev["id"] != b2.id() || ev["cancelled_by"] != "system" {
		t.Fatalf("seat cancelled by deletion: %v", ev)
	}
	if ev = e.lastEvent(t, "group_event.deleted"); ev["id"] != gid || ev["booked"] != 0.0 {
		t.Fatalf("group_event.deleted: %v", ev)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM sched_group_event_bookings WHERE group_event_id = ?`, gid); n != 0 {
		t.Fatalf("%d bookings left of a deleted group event", n)
	}
	// A group event that has ended cannot be booked.
	e.setNow(t0.AddDate(0, 0, 9))
	wantError(t, book(other, customers[1]), http.StatusUnprocessableEntity, "unprocessable", "ended")
}
