package scheduling

import (
	"fmt"
	"sort"
	"strings"
)

// CustomerFields are the writable fields of a customer. custom_fields is
// checked against the tenant's customer field definitions.
type CustomerFields struct {
	Name         string         `json:"name"`
	Email        string         `json:"email"`
	Phone        string         `json:"phone"`
	Locale       string         `json:"locale"`
	CustomFields map[string]any `json:"custom_fields"`
}

// Customer is a stored customer.
type Customer = Record[CustomerFields]

func customerCollection(s *Service) *Collection[CustomerFields] {
	c := &Collection[CustomerFields]{
		s: s, name: "customer", label: "customer", path: "customers", prefix: PrefixCustomer,
		table: "sched_customers",
		cols:  []string{"name", "email", "phone", "locale", "custom_fields"},
		ptrs: func(f *CustomerFields) []any {
			return []any{&f.Name, &f.Email, &f.Phone, &f.Locale, jsonCol{&f.CustomFields}}
		},
		check: func(t *txn, f *CustomerFields, _ *Customer) error {
			if err := requireText("name", &f.Name, maxName); err != nil {
				return err
			}
			if err := checkEmail("email", &f.Email, false); err != nil {
				return err
			}
			if f.Phone = strings.TrimSpace(f.Phone); f.Phone != "" && !phoneRE.MatchString(f.Phone) {
				return invalid("phone %q may hold only digits, spaces, ()-. and a leading +", f.Phone)
			}
			if f.Locale = strings.TrimSpace(f.Locale); f.Locale != "" && !localeRE.MatchString(f.Locale) {
				return invalid("locale %q is not a language tag such as \"nl-BE\"", f.Locale)
			}
			if f.CustomFields == nil {
				f.CustomFields = map[string]any{}
			}
			if err := checkCustomFields("custom_fields", f.CustomFields); err != nil {
				return err
			}
			defs, err := s.CustomerFields.where(t, "1 = 1")
			if err != nil {
				return err
			}
			return validateCustomerValues(defs, f.CustomFields)
		},
	}
	c.beforeDelete = func(t *txn, r *Customer) error { return deleteCustomerRule(t, r) }
	return c
}

// validateCustomerValues checks a customer's custom_fields against the
// definitions: no unknown keys, values of the defined type, required ones
// present.
func validateCustomerValues(defs []*CustomerField, values map[string]any) error {
	byKey := map[string]*CustomerField{}
	for _, d := range defs {
		byKey[d.Fields.Key] = d
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, ok := byKey[k]
		if !ok {
			return unprocessable("custom_fields.%s is not a customer field; define it with POST /v1/customer-fields", k)
		}
		if err := d.Fields.checkValue(values[k]); err != nil {
			return err
		}
	}
	for _, d := range defs {
		if _, ok := values[d.Fields.Key]; d.Fields.Required && !ok {
			return unprocessable("custom_fields.%s (%s) is required", d.Fields.Key, d.Fields.Label)
		}
	}
	return nil
}

// deleteCustomerRule: a customer with an appointment that has not ended
// yet (and is not cancelled), or a seat on a group event that has not
// ended, cannot be deleted (409): cancel those first. Past appointments
// keep their other fields and get customer_id null; past and cancelled
// seats are removed.
func deleteCustomerRule(t *txn, r *Customer) error {
	var id string
	err := t.queryRow(`SELECT id FROM sched_appointments WHERE tenant_id = ? AND customer_id = ? AND status <> ? AND end_at > ? ORDER BY start_at LIMIT 1`,
		t.tenant, r.ID, StatusCancelled, t.now.UnixMilli()).Scan(&id)
	if err == nil {
		return conflict("customer %s has appointment %s that has not ended yet; cancel or delete it first", r.ID, id)
	}
	if !isNoRows(err) {
		return err
	}
	err = t.queryRow(`SELECT b.id FROM sched_group_event_bookings b JOIN sched_group_events g ON g.id = b.group_event_id
		WHERE b.tenant_id = ? AND b.customer_id = ? AND b.status = ? AND g.end_at > ? LIMIT 1`,
		t.tenant, r.ID, BookingBooked, t.now.UnixMilli()).Scan(&id)
	if err == nil {
		return conflict("customer %s holds seat %s on a group event that has not ended yet; cancel it first", r.ID, id)
	}
	if !isNoRows(err) {
		return err
	}
	if _, err := t.exec(`UPDATE sched_appointments SET customer_id = NULL WHERE tenant_id = ? AND customer_id = ?`, t.tenant, r.ID); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE sched_group_events SET booked = booked - 1 WHERE tenant_id = ? AND id IN
		(SELECT group_event_id FROM sched_group_event_bookings WHERE tenant_id = ? AND customer_id = ? AND status = ?)`,
		t.tenant, t.tenant, r.ID, BookingBooked); err != nil {
		return err
	}
	if _, err := t.exec(`DELETE FROM sched_group_event_bookings WHERE tenant_id = ? AND customer_id = ?`, t.tenant, r.ID); err != nil {
		return fmt.Errorf("scheduling: %w", err)
	}
	return nil
}
