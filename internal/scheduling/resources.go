package scheduling

import "encoding/json"

// ResourceFields are the writable fields of a resource: someone or
// something that can be booked.
type ResourceFields struct {
	Name         string         `json:"name"`
	Kind         string         `json:"kind"`
	Email        string         `json:"email"`
	Timezone     string         `json:"timezone"`
	CustomFields map[string]any `json:"custom_fields"`
}

// Resource is a stored resource.
type Resource = Record[ResourceFields]

// Resource kinds.
var resourceKinds = []string{"person", "room", "vehicle", "tool"}

func resourceCollection(s *Service) *Collection[ResourceFields] {
	c := &Collection[ResourceFields]{
		s: s, name: "resource", label: "resource", path: "resources", prefix: PrefixResource,
		table: "sched_resources",
		cols:  []string{"name", "kind", "email", "timezone", "custom_fields"},
		ptrs: func(f *ResourceFields) []any {
			return []any{&f.Name, &f.Kind, &f.Email, &f.Timezone, jsonCol{&f.CustomFields}}
		},
		check: func(t *txn, f *ResourceFields, _ *Resource) error {
			if err := requireText("name", &f.Name, maxName); err != nil {
				return err
			}
			if f.Kind == "" {
				return invalid("kind is required: one of person, room, vehicle, tool")
			}
			if err := checkEnum("kind", f.Kind, resourceKinds...); err != nil {
				return err
			}
			if err := checkEmail("email", &f.Email, false); err != nil {
				return err
			}
			if err := checkTimezone("timezone", &f.Timezone, false); err != nil {
				return err
			}
			if f.CustomFields == nil {
				f.CustomFields = map[string]any{}
			}
			return checkCustomFields("custom_fields", f.CustomFields)
		},
	}
	c.beforeDelete = func(t *txn, r *Resource) error { return deleteResourceRule(t, s, r) }
	return c
}

// deleteResourceRule: a resource with appointments or group events that
// have not ended yet (and are not cancelled) cannot be deleted. Otherwise
// its shifts are deleted (shift.deleted each) and it is detached from past
// appointments and group events, which keep their other fields.
func deleteResourceRule(t *txn, s *Service, r *Resource) error {
	var aptID string
	err := t.queryRow(`SELECT a.id FROM sched_appointments a JOIN sched_appointment_resources ar ON ar.appointment_id = a.id
		WHERE ar.resource_id = ? AND a.tenant_id = ? AND a.status <> ? AND a.end_at > ? ORDER BY a.start_at LIMIT 1`,
		r.ID, t.tenant, StatusCancelled, t.now.UnixMilli()).Scan(&aptID)
	if err == nil {
		return conflict("resource %s has appointment %s that has not ended yet; cancel, delete or move it first", r.ID, aptID)
	}
	if !isNoRows(err) {
		return err
	}
	events, err := groupEventsUsing(t, "resource_ids LIKE ?", "%"+quoteJSON(r.ID)+"%")
	if err != nil {
		return err
	}
	for _, g := range events {
		if !contains(g.ResourceIDs, r.ID) {
			continue
		}
		if g.End.After(t.now) {
			return conflict("resource %s is used by group event %s that has not ended yet; change or delete it first", r.ID, g.ID)
		}
		ids := remove(g.ResourceIDs, r.ID)
		if _, err := t.exec(`UPDATE sched_group_events SET resource_ids = ? WHERE tenant_id = ? AND id = ?`, jsonCol{&ids}, t.tenant, g.ID); err != nil {
			return err
		}
	}
	shifts, err := s.Shifts.where(t, "resource_id = ?", r.ID)
	if err != nil {
		return err
	}
	for _, sh := range shifts {
		if err := s.Shifts.remove(t, sh); err != nil {
			return err
		}
	}
	_, err = t.exec(`DELETE FROM sched_appointment_resources WHERE tenant_id = ? AND resource_id = ?`, t.tenant, r.ID)
	return err
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func remove(list []string, s string) []string {
	out := []string{}
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
