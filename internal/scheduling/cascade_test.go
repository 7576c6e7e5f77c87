package scheduling_test

import (
	"net/http"
	"testing"
)

func TestCustomerCustomFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, def := range []map[string]any{
		{"key": "insurer", "label": "Insurer", "type": "select", "options": []string{"CM", "Helan"}},
		{"key": "weight", "label": "Weight", "type": "number"},
		{"key": "newsletter", "label": "Newsletter", "type": "boolean"},
		{"key": "birthday", "label": "Birthday", "type": "date"},
		{"key": "note", "label": "Note", "type": "string"},
	} {
		e.create(t, "/v1/customer-fields", def)
	}
	wantError(t, e.do(t, "POST", "/v1/customer-fields", map[string]any{"key": "note", "label": "Again", "type": "string"}), http.StatusConflict, "conflict", "already exists")

	tests := []struct {
		name   string
		fields map[string]any
		msg    string // "" = valid
	}{
		{"all valid", map[string]any{"insurer": "CM", "weight": 72.5, "newsletter": true, "birthday": "1980-04-01", "note": "hi"}, ""},
		{"none", map[string]any{}, ""},
		{"unknown key", map[string]any{"shoe_size": 44}, "custom_fields.shoe_size is not a customer field"},
		{"select option", map[string]any{"insurer": "Other"}, "custom_fields.insurer must be one of CM, Helan"},
		{"number", map[string]any{"weight": "72"}, "custom_fields.weight must be a number"},
		{"boolean", map[string]any{"newsletter": "yes"}, "custom_fields.newsletter must be true or false"},
		{"date", map[string]any{"birthday": "01/04/1980"}, "custom_fields.birthday must be a date"},
		{"string", map[string]any{"note": 5}, "custom_fields.note must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/v1/customers", map[string]any{"name": "C " + tc.name, "custom_fields": tc.fields})
			if tc.msg == "" {
				if r.status != http.StatusCreated {
					t.Fatalf("refused: %d %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, http.StatusUnprocessableEntity, "unprocessable", tc.msg)
		})
	}

	// Merge patch: a member replaces, null removes, others stay.
	c := e.create(t, "/v1/customers", map[string]any{"name": "Jan", "custom_fields": map[string]any{"insurer": "CM", "weight": 80}})
	p := e.must(t, http.StatusOK, "PATCH", "/v1/customers/"+c, map[string]any{"custom_fields": map[string]any{"weight": nil, "note": "x"}})
	if get(p, "custom_fields", "insurer") != "CM" || get(p, "custom_fields", "note") != "x" || get(p, "custom_fields", "weight") != nil {
		t.Fatalf("merged custom_fields: %v", p["custom_fields"])
	}
	ev := e.lastEvent(t, "customer.updated")
	if get(ev, "previous", "custom_fields", "weight") != 80.0 {
		t.Fatalf("customer.updated previous: %v", ev["previous"])
	}

	// A required field: refused while a customer lacks it.
	wantError(t, e.do(t, "POST", "/v1/customer-fields", map[string]any{"key": "vip", "label": "VIP", "type": "boolean", "required": true}), http.StatusConflict, "conflict", "has no vip")
	// Changing a definition that stored values would violate: refused.
	ins := e.must(t, http.StatusOK, "GET", "/v1/customer-fields?limit=10", nil)
	var insurerID string
	for _, d := range ins["data"].([]any) {
		if get(d, "key") == "insurer" {
			insurerID = get(d, "id").(string)
		}
	}
	wantError(t, e.do(t, "PATCH", "/v1/customer-fields/"+insurerID, map[string]any{"options": []string{"Helan"}}), http.StatusConflict, "conflict", "must be one of Helan")
	wantError(t, e.do(t, "PATCH", "/v1/customer-fields/"+insurerID, map[string]any{"key": "mutual"}), http.StatusUnprocessableEntity, "unprocessable", "key cannot be changed")
	e.must(t, http.StatusOK, "PATCH", "/v1/customer-fields/"+insurerID, map[string]any{"options": []string{"CM", "Helan", "Solidaris"}})

	// Deleting a definition strips its values, with customer.updated each.
	before := e.countEvents(t, "customer.updated")
	e.must(t, http.StatusNoContent, "DELETE", "/v1/customer-fields/"+insurerID, nil)
	if got := e.must(t, http.StatusOK, "GET", "/v1/customers/"+c, nil); get(got, "custom_fields", "insurer") != nil {
		t.Fatalf("insurer kept after its definition was deleted: %v", got)
	}
	ev = e.lastEvent(t, "customer.updated")
	if get(ev, "previous", "custom_fields", "insurer") != "CM" {
		t.Fatalf("customer.updated on strip: %v", ev)
	}
	// Two customers had an insurer ("all valid" and Jan).
	if n := e.countEvents(t, "customer.updated") - before; n != 2 {
		t.Fatalf("%d customer.updated events from the strip, want 2", n)
	}
	// The key is free again and customers can be patched normally.
	e.must(t, http.StatusOK, "PATCH", "/v1/customers/"+c, map[string]any{"name": "Jan J."})
}

func TestCascadingRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	shift := e.create(t, "/v1/shifts", map[string]any{"resource_id": f.person, "start": at(1, 8), "end": at(1, 17)})
	past := e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{
		"start": at(-1, 9), "end": at(-1, 10), "resource_ids": []string{f.room}, "customer_id": f.customer, "service_id": f.service})["id"].(string)
	future := e.must(t, http.StatusCreated, "POST", "/v1/appointments", map[string]any{
		"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person, f.room}, "customer_id": f.customer, "service_id": f.service})["id"].(string)

	// Refusals name the appointment that blocks them.
	wantError(t, e.do(t, "DELETE", "/v1/customers/"+f.customer, nil), http.StatusConflict, "conflict", future)
	wantError(t, e.do(t, "DELETE", "/v1/resources/"+f.person, nil), http.StatusConflict, "conflict", future)
	wantError(t, e.do(t, "DELETE", "/v1/services/"+f.service, nil), http.StatusConflict, "conflict", future)

	// Service group: its services are ungrouped with service.updated.
	e.must(t, http.StatusNoContent, "DELETE", "/v1/service-groups/"+f.group, nil)
	if s := e.must(t, http.StatusOK, "GET", "/v1/services/"+f.service, nil); s["service_group_id"] != nil {
		t.Fatalf("service keeps a deleted group: %v", s)
	}
	ev := e.lastEvent(t, "service.updated")
	if get(ev, "previous", "service_group_id") != f.group || ev["service_group_id"] != nil || ev["service_group"] != nil {
		t.Fatalf("service.updated on group deletion: %v", ev)
	}
	types := e.eventTypes(t)
	if types[len(types)-2] != "service.updated" || types[len(types)-1] != "service_group.deleted" {
		t.Fatalf("events end with %v", types[len(types)-2:])
	}

	// Once the future appointment is cancelled, deletions go through.
	e.must(t, http.StatusOK, "POST", "/v1/appointments/"+future+"/cancel", map[string]any{"reason": "closing"})
	e.must(t, http.StatusNoContent, "DELETE", "/v1/resources/"+f.person, nil)
	if ev := e.lastEvent(t, "shift.deleted"); ev["id"] != shift || get(ev, "resource", "id") != f.person {
		t.Fatalf("shift.deleted with the resource: %v", ev)
	}
	wantError(t, e.do(t, "GET", "/v1/shifts/"+shift, nil), http.StatusNotFound, "not_found", shift)
	if a := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+future, nil); len(a["resource_ids"].([]any)) != 1 || get(a, "resource_ids", 0) != f.room {
		t.Fatalf("cancelled appointment keeps the deleted resource: %v", a["resource_ids"])
	}
	e.must(t, http.StatusNoContent, "DELETE", "/v1/customers/"+f.customer, nil)
	e.must(t, http.StatusNoContent, "DELETE", "/v1/services/"+f.service, nil)
	for _, id := range []string{past, future} {
		a := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+id, nil)
		if a["customer_id"] != nil || a["service_id"] != nil {
			t.Fatalf("appointment %s keeps deleted customer or service: %v", id, a)
		}
	}
	// The room still has the past appointment: it can be deleted (past)
	// and the appointment loses it.
	e.must(t, http.StatusNoContent, "DELETE", "/v1/resources/"+f.room, nil)
	if a := e.must(t, http.StatusOK, "GET", "/v1/appointments/"+past, nil); len(a["resource_ids"].([]any)) != 0 {
		t.Fatalf("past appointment keeps the deleted room: %v", a)
	}
}

func TestCascadeGroupEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	g := e.create(t, "/v1/group-events", map[string]any{"name": "Yoga", "start": at(1, 18), "end": at(1, 19), "capacity": 3, "resource_ids": []string{f.room}, "service_id": f.service})
	e.must(t, http.StatusCreated, "POST", "/v1/group-events/"+g+"/bookings", map[string]any{"customer_id": f.customer})
	wantError(t, e.do(t, "DELETE", "/v1/customers/"+f.customer, nil), http.StatusConflict, "conflict", "seat")
	wantError(t, e.do(t, "DELETE", "/v1/resources/"+f.room, nil), http.StatusConflict, "conflict", g)
	wantError(t, e.do(t, "DELETE", "/v1/services/"+f.service, nil), http.StatusConflict, "conflict", g)
	// After the event ends, all three may go; the event keeps its history.
	e.setNow(t0.AddDate(0, 0, 2))
	e.must(t, http.StatusNoContent, "DELETE", "/v1/customers/"+f.customer, nil)
	e.must(t, http.StatusNoContent, "DELETE", "/v1/resources/"+f.room, nil)
	e.must(t, http.StatusNoContent, "DELETE", "/v1/services/"+f.service, nil)
	got := e.must(t, http.StatusOK, "GET", "/v1/group-events/"+g, nil)
	if len(got["resource_ids"].([]any)) != 0 || got["service_id"] != nil || got["booked"] != 0.0 {
		t.Fatalf("group event after cascades: %v", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	apt := e.book(t, at(1, 9), at(1, 10), f.person).id()
	gev := e.create(t, "/v1/group-events", map[string]any{"name": "Yoga", "start": at(1, 18), "end": at(1, 19), "capacity": 3})
	_, otherKey := e.newTenant("Other")
	paths := map[string]string{
		"resource": "/v1/resources/" + f.person, "service": "/v1/services/" + f.service, "group": "/v1/service-groups/" + f.group,
		"customer": "/v1/customers/" + f.customer, "appointment": "/v1/appointments/" + apt, "group event": "/v1/group-events/" + gev,
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			for _, m := range []string{"GET", "PATCH", "DELETE"} {
				var body any
				if m == "PATCH" {
					body = map[string]any{"notes": "x"}
					if name != "appointment" {
						body = map[string]any{"name": "stolen"}
					}
				}
				wantError(t, e.request(t, otherKey, m, path, body), http.StatusNotFound, "not_found", "")
			}
		})
	}
	for _, p := range []string{"/v1/appointments/" + apt + "/cancel", "/v1/appointments/" + apt + "/no-show"} {
		wantError(t, e.request(t, otherKey, "POST", p, map[string]any{}), http.StatusNotFound, "not_found", apt)
	}
	wantError(t, e.request(t, otherKey, "POST", "/v1/group-events/"+gev+"/bookings", map[string]any{"customer_id": f.customer}), http.StatusNotFound, "not_found", gev)
	// References in a body to another tenant's objects do not resolve.
	otherRes := e.request(t, otherKey, "POST", "/v1/resources", map[string]any{"name": "Theirs", "kind": "room"}).id()
	wantError(t, e.request(t, otherKey, "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{otherRes}, "customer_id": f.customer}),
		http.StatusUnprocessableEntity, "unprocessable", f.customer)
	wantError(t, e.request(t, otherKey, "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person}}),
		http.StatusUnprocessableEntity, "unprocessable", f.person)
	// The same slot on the other tenant's own resource is free.
	if r := e.request(t, otherKey, "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{otherRes}}); r.status != http.StatusCreated {
		t.Fatalf("other tenant booking: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/v1/resources", "/v1/appointments", "/v1/customers", "/v1/group-events"} {
		l := e.request(t, otherKey, "GET", p, nil).obj()
		for _, item := range l["data"].([]any) {
			if id := get(item, "id"); id != otherRes && get(item, "resource_ids", 0) != otherRes {
				t.Fatalf("%s lists %v to the other tenant", p, id)
			}
		}
	}
	if c := e.request(t, otherKey, "GET", "/v1/company", nil).obj(); c["name"] != "Other" {
		t.Fatalf("other tenant's company: %v", c)
	}
}
