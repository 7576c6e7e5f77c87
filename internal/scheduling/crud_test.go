package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
)

// Each simple collection: create, get, list, patch (event with previous),
// delete (event with the object), and 404 afterwards.
func TestCollectionsCRUD(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, event string
		setup       func(e *env, t *testing.T) map[string]any // create body
		patch       map[string]any
		field       string // a field the patch changes
		want, old   any
	}{
		{"resources", "resource", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"name": "An", "kind": "person", "email": "an@example.com", "timezone": "Europe/Brussels", "custom_fields": map[string]any{"floor": 2}}
		}, map[string]any{"kind": "tool"}, "kind", "tool", "person"},
		{"shifts", "shift", func(e *env, t *testing.T) map[string]any {
			r := e.create(t, "/v1/resources", map[string]any{"name": "An", "kind": "person"})
			return map[string]any{"resource_id": r, "start": at(1, 8), "end": at(1, 17)}
		}, map[string]any{"end": at(1, 12)}, "end", at(1, 12), at(1, 17)},
		{"service-groups", "service_group", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"name": "Physio", "description": "x"}
		}, map[string]any{"description": "y"}, "description", "y", "x"},
		{"services", "service", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"name": "Intake", "duration_minutes": 30, "price": 40, "currency": "EUR"}
		}, map[string]any{"price": 42.5}, "price", 42.5, 40.0},
		{"customers", "customer", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"name": "Jan", "email": "jan@example.com", "phone": "+32 9 123 45 67", "locale": "nl-BE"}
		}, map[string]any{"locale": "fr-BE"}, "locale", "fr-BE", "nl-BE"},
		{"customer-fields", "customer_field", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"key": "insurer", "label": "Insurer", "type": "select", "options": []string{"CM", "Helan"}}
		}, map[string]any{"label": "Health insurer"}, "label", "Health insurer", "Insurer"},
		{"managers", "manager", func(e *env, t *testing.T) map[string]any {
			return map[string]any{"name": "Els", "email": "els@example.com", "role": "admin"}
		}, map[string]any{"role": "staff"}, "role", "staff", "admin"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			base := "/v1/" + tc.path
			created := e.must(t, http.StatusCreated, "POST", base, tc.setup(e, t))
			id := created["id"].(string)
			if created["created_at"] == nil || created["updated_at"] == nil {
				t.Fatalf("created object lacks timestamps: %v", created)
			}
			if ev := e.lastEvent(t, tc.event+".created"); ev["id"] != id {
				t.Fatalf("%s.created data id = %v, want %s", tc.event, ev["id"], id)
			}
			if got := e.must(t, http.StatusOK, "GET", base+"/"+id, nil); got["id"] != id {
				t.Fatalf("GET: %v", got)
			}
			if l := e.must(t, http.StatusOK, "GET", base, nil); len(l["data"].([]any)) != 1 {
				t.Fatalf("list: %v", l)
			}
			upd := e.must(t, http.StatusOK, "PATCH", base+"/"+id, tc.patch)
			if upd[tc.field] != tc.want {
				t.Fatalf("PATCH: %s = %v, want %v", tc.field, upd[tc.field], tc.want)
			}
			ev := e.lastEvent(t, tc.event+".updated")
			if ev[tc.field] != tc.want || get(ev, "previous", tc.field) != tc.old || len(ev["previous"].(map[string]any)) != 1 {
				t.Fatalf("%s.updated: %s=%v previous=%v, want %v and previous {%s: %v}", tc.event, tc.field, ev[tc.field], ev["previous"], tc.want, tc.field, tc.old)
			}
			// A patch that changes nothing emits nothing.
			e.must(t, http.StatusOK, "PATCH", base+"/"+id, tc.patch)
			if n := e.countEvents(t, tc.event+".updated"); n != 1 {
				t.Fatalf("%d %s.updated events after a no-op patch, want 1", n, tc.event)
			}
			e.must(t, http.StatusNoContent, "DELETE", base+"/"+id, nil)
			if ev := e.lastEvent(t, tc.event+".deleted"); ev["id"] != id || ev[tc.field] != tc.want {
				t.Fatalf("%s.deleted data: %v", tc.event, ev)
			}
			wantError(t, e.do(t, "GET", base+"/"+id, nil), http.StatusNotFound, "not_found", id)
			wantError(t, e.do(t, "DELETE", base+"/"+id, nil), http.StatusNotFound, "not_found", id)
		})
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.create(t, "/v1/customers", map[string]any{"name": fmt.Sprint("c", i)}))
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		l := e.must(t, http.StatusOK, "GET", "/v1/customers?limit=2&cursor="+cursor, nil)
		for _, c := range l["data"].([]any) {
			got = append(got, c.(map[string]any)["id"].(string))
		}
		next, _ := l["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(got) != 5 {
		t.Fatalf("paged through %d customers, want 5: %v", len(got), got)
	}
	for i := range got {
		if got[i] != ids[len(ids)-1-i] {
			t.Fatalf("order %v, want newest first of %v", got, ids)
		}
	}
	wantError(t, e.do(t, "GET", "/v1/customers?limit=0", nil), http.StatusBadRequest, "invalid_request", "limit")
}

func TestCompany(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.must(t, http.StatusOK, "GET", "/v1/company", nil)
	if c["name"] != "Kine Centrum" || c["timezone"] != "UTC" || c["external_id"] != "" {
		t.Fatalf("default profile: %v", c)
	}
	c = e.must(t, http.StatusOK, "PATCH", "/v1/company", map[string]any{"timezone": "Europe/Brussels", "external_id": "DS-1"})
	if c["timezone"] != "Europe/Brussels" || c["external_id"] != "DS-1" || c["name"] != "Kine Centrum" {
		t.Fatalf("patched profile: %v", c)
	}
	ev := e.lastEvent(t, "company.updated")
	if get(ev, "previous", "timezone") != "UTC" || get(ev, "previous", "external_id") != "" || get(ev, "previous", "name") != nil {
		t.Fatalf("company.updated previous: %v", ev["previous"])
	}
	c = e.must(t, http.StatusOK, "PATCH", "/v1/company", map[string]any{"name": "Kine Gent"})
	if c["name"] != "Kine Gent" || c["timezone"] != "Europe/Brussels" {
		t.Fatalf("second patch: %v", c)
	}
	if got := e.must(t, http.StatusOK, "GET", "/v1/company", nil); got["name"] != "Kine Gent" {
		t.Fatalf("GET after patch: %v", got)
	}
	wantError(t, e.do(t, "PATCH", "/v1/company", map[string]any{"timezone": "Mars/Olympus"}), http.StatusUnprocessableEntity, "unprocessable", "Mars/Olympus")
	wantError(t, e.do(t, "PATCH", "/v1/company", map[string]any{"name": ""}), http.StatusBadRequest, "invalid_request", "name")
	wantError(t, e.do(t, "PATCH", "/v1/company", map[string]any{"id": "x"}), http.StatusBadRequest, "invalid_request", "unknown field")
	if n := e.countEvents(t, "company.updated"); n != 2 {
		t.Fatalf("%d company.updated events, want 2", n)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture(t)
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"not json", "POST", "/v1/resources", "{", 400, "invalid_request", "not valid JSON"},
		{"unknown field", "POST", "/v1/resources", map[string]any{"name": "x", "kind": "room", "colour": "red"}, 400, "invalid_request", "colour"},
		{"resource name", "POST", "/v1/resources", map[string]any{"kind": "room"}, 400, "invalid_request", "name is required"},
		{"resource kind", "POST", "/v1/resources", map[string]any{"name": "x", "kind": "boat"}, 400, "invalid_request", "kind must be one of"},
		{"resource email", "POST", "/v1/resources", map[string]any{"name": "x", "kind": "person", "email": "nope"}, 400, "invalid_request", "e-mail"},
		{"resource timezone", "POST", "/v1/resources", map[string]any{"name": "x", "kind": "person", "timezone": "Europe/Gent"}, 422, "unprocessable", "Europe/Gent"},
		{"resource custom_fields type", "POST", "/v1/resources", map[string]any{"name": "x", "kind": "person", "custom_fields": []int{1}}, 400, "invalid_request", "custom_fields"},
		{"shift unknown resource", "POST", "/v1/shifts", map[string]any{"resource_id": "res_nope", "start": at(1, 8), "end": at(1, 9)}, 422, "unprocessable", "res_nope"},
		{"shift backwards", "POST", "/v1/shifts", map[string]any{"resource_id": f.person, "start": at(1, 9), "end": at(1, 8)}, 422, "unprocessable", "must be after start"},
		{"shift bad time", "POST", "/v1/shifts", map[string]any{"resource_id": f.person, "start": "tomorrow", "end": at(1, 8)}, 400, "invalid_request", "not valid JSON"},
		{"service currency", "POST", "/v1/services", map[string]any{"name": "x", "duration_minutes": 30, "price": 1, "currency": "euro"}, 400, "invalid_request", "ISO 4217"},
		{"service duration", "POST", "/v1/services", map[string]any{"name": "x", "duration_minutes": 0, "price": 1, "currency": "EUR"}, 400, "invalid_request", "duration_minutes"},
		{"service price", "POST", "/v1/services", map[string]any{"name": "x", "duration_minutes": 5, "price": -1, "currency": "EUR"}, 400, "invalid_request", "price"},
		{"service price type", "POST", "/v1/services", `{"name":"x","duration_minutes":5,"price":"10","currency":"EUR"}`, 400, "invalid_request", "price"},
		{"service group", "POST", "/v1/services", map[string]any{"name": "x", "duration_minutes": 5, "price": 1, "currency": "EUR", "service_group_id": "sgr_nope"}, 422, "unprocessable", "sgr_nope"},
		{"customer phone", "POST", "/v1/customers", map[string]any{"name": "x", "phone": "call me"}, 400, "invalid_request", "phone"},
		{"customer locale", "POST", "/v1/customers", map[string]any{"name": "x", "locale": "dutch!"}, 400, "invalid_request", "locale"},
		{"field type", "POST", "/v1/customer-fields", map[string]any{"key": "x", "label": "X", "type": "colour"}, 400, "invalid_request", "type must be one of"},
		{"field key", "POST", "/v1/customer-fields", map[string]any{"key": "Bad Key", "label": "X", "type": "string"}, 400, "invalid_request", "key"},
		{"select without options", "POST", "/v1/customer-fields", map[string]any{"key": "x", "label": "X", "type": "select"}, 400, "invalid_request", "options"},
		{"options on string", "POST", "/v1/customer-fields", map[string]any{"key": "x", "label": "X", "type": "string", "options": []string{"a"}}, 400, "invalid_request", "options"},
		{"manager role", "POST", "/v1/managers", map[string]any{"name": "x", "email": "x@example.com", "role": "god"}, 400, "invalid_request", "role"},
		{"manager email", "POST", "/v1/managers", map[string]any{"name": "x", "role": "staff"}, 400, "invalid_request", "email is required"},
		{"appointment no resources", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10)}, 400, "invalid_request", "resource_ids"},
		{"appointment no end", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "resource_ids": []string{f.person}}, 400, "invalid_request", "end is required"},
		{"appointment backwards", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 9), "resource_ids": []string{f.person}}, 422, "unprocessable", "after start"},
		{"appointment unknown resource", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{"res_nope"}}, 422, "unprocessable", "res_nope"},
		{"appointment duplicate resource", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person, f.person}}, 400, "invalid_request", "twice"},
		{"appointment unknown customer", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person}, "customer_id": "cus_nope"}, 422, "unprocessable", "cus_nope"},
		{"appointment origin", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person}, "origin": "phone"}, 400, "invalid_request", "origin"},
		{"appointment status cancelled", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person}, "status": "cancelled"}, 422, "unprocessable", "/cancel"},
		{"appointment source field", "POST", "/v1/appointments", map[string]any{"start": at(1, 9), "end": at(1, 10), "resource_ids": []string{f.person}, "source": map[string]any{"system": "x"}}, 400, "invalid_request", "system"},
		{"group event capacity", "POST", "/v1/group-events", map[string]any{"name": "x", "start": at(1, 9), "end": at(1, 10), "capacity": 0}, 400, "invalid_request", "capacity"},
		{"booking without customer", "POST", "/v1/group-events/gev_nope/bookings", map[string]any{}, 400, "invalid_request", "customer_id"},
		{"unknown appointment", "GET", "/v1/appointments/apt_nope", nil, 404, "not_found", "apt_nope"},
		{"unknown group event", "POST", "/v1/group-events/gev_nope/bookings", map[string]any{"customer_id": f.customer}, 404, "not_found", "gev_nope"},
		{"patch not object", "PATCH", "/v1/resources/" + f.person, "[1]", 400, "invalid_request", "JSON object"},
		{"patch unknown field", "PATCH", "/v1/resources/" + f.person, map[string]any{"id": "res_x"}, 400, "invalid_request", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(t, tc.method, tc.path, tc.body), tc.status, tc.code, tc.msg)
		})
	}
	// No failed request emitted anything: only the fixture's 5 creations.
	if n := len(e.eventTypes(t)); n != 5 {
		t.Fatalf("%d events after failed requests, want the fixture's 5: %v", n, e.eventTypes(t))
	}
	// No key: 401.
	wantError(t, e.request(t, "", "GET", "/v1/resources", nil), http.StatusUnauthorized, "unauthorized", "")
}
