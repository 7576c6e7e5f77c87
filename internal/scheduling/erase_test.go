package scheduling_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store"
)

// erase runs an erasure of the first tenant with the scheduling eraser.
func (e *env) erase(t *testing.T, subject string, p *erasure.Person) *slotwire.Erasure {
	t.Helper()
	era := &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: e.tenant, APIKeyID: "key_test", Subject: subject, CreatedAt: t0}
	if err := e.db.Erase(context.Background(), era, p, []store.Eraser{e.svc.Eraser()}); err != nil {
		t.Fatal(err)
	}
	return era
}

// A customer erased by id keeps its row, id, appointments and seats, but
// not its name, address, phone or custom fields; its appointments lose
// their free text; a manager with its stored address is erased too; the
// address is replaced in another customer's appointment; every event
// about it is rewritten (and still matches its schema: checked when the
// test ends); another tenant's customer with the same address is kept.
func TestEraseCustomerByID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t) // its customer is Jan Janssens, jan@example.com
	jan := f.customer
	e.create(t, "/v1/customer-fields", map[string]any{"key": "insurer", "label": "Insurer", "type": "string"})
	e.must(t, http.StatusOK, "PATCH", "/v1/customers/"+jan, map[string]any{"email": "Jan@Example.com",
		"phone": "+32 470 65 43 21", "custom_fields": map[string]any{"insurer": "CM"}})
	piet := e.create(t, "/v1/customers", map[string]any{"name": "Piet Peeters", "email": "piet@example.com"})
	mgr := e.create(t, "/v1/managers", map[string]any{"name": "Jan Janssens", "email": "jan@example.com", "role": "staff"})
	own := e.create(t, "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person},
		"customer_id": jan, "origin": "online", "subject": "Jan's knee", "location": "Kerkstraat 1", "notes": "allergic to latex"})
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+own+"/cancel", map[string]any{"reason": "ill", "cancelled_by": "customer"})
	other := e.create(t, "/v1/appointments", map[string]any{"start": at(1, 11), "end": at(1, 12), "resource_ids": []string{f.person},
		"customer_id": piet, "origin": "manual", "notes": "referred by JAN@example.com"})
	gev := e.create(t, "/v1/group-events", map[string]any{"name": "Yoga", "start": at(2, 18), "end": at(2, 19), "capacity": 3})
	seat := e.must(t, http.StatusCreated, "POST", "/v1/group-events/"+gev+"/bookings", map[string]any{"customer_id": jan})["id"]
	otherTenant, otherKey := e.newTenant("Other")
	kept := e.request(t, otherKey, "POST", "/v1/customers", map[string]any{"name": "Jan Janssens", "email": "jan@example.com"}).id()

	p := &erasure.Person{}
	p.AddID(jan)
	era := e.erase(t, erasure.SubjectCustomerID, p)
	want := map[string]int{"customers": 1, "appointments": 2, "managers": 1, "resources": 0}
	for k, n := range want {
		if era.Counts[k] != n {
			t.Errorf("%s = %d, want %d (counts %v)", k, era.Counts[k], n, era.Counts)
		}
	}
	if era.Counts["events"] == 0 {
		t.Errorf("no event rewritten: %v", era.Counts)
	}

	c := e.must(t, http.StatusOK, "GET", "/v1/customers/"+jan, nil)
	if c["name"] != erasure.Placeholder || c["email"] != "" || c["phone"] != "" || len(c["custom_fields"].(map[string]any)) != 0 || c["locale"] != "nl-BE" {
		t.Errorf("customer = %v", c)
	}
	if m := e.must(t, http.StatusOK, "GET", "/v1/managers/"+mgr, nil); m["name"] != erasure.Placeholder || m["email"] != "" || m["role"] != "staff" {
		t.Errorf("manager = %v", m)
	}
	a := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+own, nil)
	if a["customer_id"] != jan || a["subject"] != "" || a["location"] != "" || a["notes"] != "" || get(a, "cancellation", "reason") != "" ||
		get(a, "cancellation", "cancelled_by") != "customer" || a["status"] != "cancelled" {
		t.Errorf("the customer's appointment = %v", a)
	}
	if a := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+other, nil); a["notes"] != "referred by [erased]" {
		t.Errorf("another appointment's notes = %v", a["notes"])
	}
	bs := e.must(t, http.StatusOK, "GET", "/v1/group-events/"+gev+"/bookings", nil)["data"].([]any)
	if len(bs) != 1 || get(bs, 0, "id") != seat || get(bs, 0, "customer_id") != jan {
		t.Errorf("bookings = %v", bs)
	}
	for _, ev := range e.eventsOf(t, e.tenant) {
		low := strings.ToLower(string(ev.Payload))
		if strings.Contains(low, "jan@example.com") || strings.Contains(low, "janssens") || strings.Contains(low, "latex") ||
			strings.Contains(low, "470 12 34 56") || strings.Contains(low, "kerkstraat") {
			t.Errorf("event %s (%s) still holds the person: %s", ev.ID, ev.Type, ev.Payload)
		}
	}
	if c := e.request(t, otherKey, "GET", "/v1/customers/"+kept, nil).obj(); c["email"] != "jan@example.com" {
		t.Errorf("another tenant's customer = %v", c)
	}
	if evs := e.eventsOf(t, otherTenant); len(evs) != 1 || !strings.Contains(string(evs[0].Payload), "jan@example.com") {
		t.Errorf("another tenant's events changed")
	}

	// Erasing again finds the customer by id but changes nothing.
	again := e.erase(t, erasure.SubjectCustomerID, p)
	for k, n := range again.Counts {
		if n != 0 {
			t.Errorf("second erasure changed %d %s", n, k)
		}
	}
}

// By address, compared case-insensitively: every customer with it, and a
// resource (staff) with it, are erased.
func TestEraseByEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(t, "/v1/customers", map[string]any{"name": "Jan", "email": "JAN@example.com"})
	b := e.create(t, "/v1/customers", map[string]any{"name": "Jan (duplicate)", "email": "jan@EXAMPLE.com"})
	keep := e.create(t, "/v1/customers", map[string]any{"name": "Piet", "email": "piet@example.com",
		"custom_fields": map[string]any{}})
	res := e.create(t, "/v1/resources", map[string]any{"name": "Jan", "kind": "person", "email": "jan@example.com",
		"custom_fields": map[string]any{"badge": 7}})
	p := &erasure.Person{}
	p.AddEmail("Jan@Example.COM")
	era := e.erase(t, erasure.SubjectEmail, p)
	if era.Counts["customers"] != 2 || era.Counts["resources"] != 1 || era.Counts["appointments"] != 0 {
		t.Fatalf("counts = %v", era.Counts)
	}
	for _, id := range []string{a, b} {
		if c := e.must(t, http.StatusOK, "GET", "/v1/customers/"+id, nil); c["name"] != erasure.Placeholder || c["email"] != "" {
			t.Errorf("customer %s = %v", id, c)
		}
	}
	if c := e.must(t, http.StatusOK, "GET", "/v1/customers/"+keep, nil); c["name"] != "Piet" {
		t.Errorf("an unrelated customer = %v", c)
	}
	if r := e.must(t, http.StatusOK, "GET", "/v1/resources/"+res, nil); r["name"] != erasure.Placeholder || r["email"] != "" ||
		len(r["custom_fields"].(map[string]any)) != 0 || r["kind"] != "person" {
		t.Errorf("resource = %v", r)
	}
	// The customers' ids were added: an object naming one only by id is
	// erased in the core's events too.
	if ids := p.IDs(); len(ids) != 2 {
		t.Errorf("ids found = %v", ids)
	}
}
