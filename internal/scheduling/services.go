package scheduling

import "math"

// ServiceFields are the writable fields of a service: something a customer
// books, with its duration and price.
type ServiceFields struct {
	Name            string  `json:"name"`
	DurationMinutes int     `json:"duration_minutes"`
	Price           float64 `json:"price"`
	Currency        string  `json:"currency"`
	ServiceGroupID  *string `json:"service_group_id"`
}

// ServiceObj is a stored service.
type ServiceObj = Record[ServiceFields]

// ServiceGroupFields are the writable fields of a service group.
type ServiceGroupFields struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ServiceGroup is a stored service group.
type ServiceGroup = Record[ServiceGroupFields]

func serviceCollection(s *Service) *Collection[ServiceFields] {
	c := &Collection[ServiceFields]{
		s: s, name: "service", label: "service", path: "services", prefix: PrefixService,
		table: "sched_services",
		cols:  []string{"name", "duration_minutes", "price", "currency", "service_group_id"},
		ptrs: func(f *ServiceFields) []any {
			return []any{&f.Name, &f.DurationMinutes, &f.Price, &f.Currency, optStrCol{&f.ServiceGroupID}}
		},
		check: func(t *txn, f *ServiceFields, _ *ServiceObj) error {
			if err := requireText("name", &f.Name, maxName); err != nil {
				return err
			}
			if f.DurationMinutes < 1 || f.DurationMinutes > 24*60 {
				return invalid("duration_minutes must be a whole number from 1 to 1440")
			}
			if f.Price < 0 || math.IsInf(f.Price, 0) || math.IsNaN(f.Price) {
				return invalid("price must be a number of at least 0")
			}
			if f.Currency == "" {
				return invalid("currency is required (ISO 4217, e.g. EUR)")
			}
			if !currencyRE.MatchString(f.Currency) {
				return invalid("currency %q must be an ISO 4217 code of 3 capital letters, e.g. EUR", f.Currency)
			}
			optRef(&f.ServiceGroupID)
			if f.ServiceGroupID != nil {
				if _, err := s.ServiceGroups.get(t, *f.ServiceGroupID); err != nil {
					return unprocessable("service_group_id: service group %s not found", *f.ServiceGroupID)
				}
			}
			return nil
		},
	}
	// Service events carry the service group (or null).
	c.expand = func(t *txn, r *ServiceObj) (any, error) {
		var g *ServiceGroup
		if id := r.Fields.ServiceGroupID; id != nil {
			var err error
			if g, err = s.ServiceGroups.get(t, *id); err != nil {
				return nil, err
			}
		}
		return with(r, "service_group", g), nil
	}
	c.beforeDelete = func(t *txn, r *ServiceObj) error { return deleteServiceRule(t, r) }
	return c
}

// deleteServiceRule: a service booked by an appointment or group event that
// has not ended yet (and is not cancelled) cannot be deleted; past ones keep
// their other fields and get service_id null.
func deleteServiceRule(t *txn, r *ServiceObj) error {
	var id string
	err := t.queryRow(`SELECT id FROM sched_appointments WHERE tenant_id = ? AND service_id = ? AND status <> ? AND end_at > ? ORDER BY start_at LIMIT 1`,
		t.tenant, r.ID, StatusCancelled, t.now.UnixMilli()).Scan(&id)
	if err == nil {
		return conflict("service %s is booked by appointment %s that has not ended yet; cancel, delete or change it first", r.ID, id)
	}
	if !isNoRows(err) {
		return err
	}
	err = t.queryRow(`SELECT id FROM sched_group_events WHERE tenant_id = ? AND service_id = ? AND end_at > ? ORDER BY start_at LIMIT 1`,
		t.tenant, r.ID, t.now.UnixMilli()).Scan(&id)
	if err == nil {
		return conflict("service %s is used by group event %s that has not ended yet; change or delete it first", r.ID, id)
	}
	if !isNoRows(err) {
		return err
	}
	if _, err := t.exec(`UPDATE sched_appointments SET service_id = NULL WHERE tenant_id = ? AND service_id = ?`, t.tenant, r.ID); err != nil {
		return err
	}
	_, err = t.exec(`UPDATE sched_group_events SET service_id = NULL WHERE tenant_id = ? AND service_id = ?`, t.tenant, r.ID)
	return err
}

func serviceGroupCollection(s *Service) *Collection[ServiceGroupFields] {
	return &Collection[ServiceGroupFields]{
		s: s, name: "service_group", label: "service group", path: "service-groups", prefix: PrefixServiceGroup,
		table: "sched_service_groups",
		cols:  []string{"name", "description"},
		ptrs: func(f *ServiceGroupFields) []any {
			return []any{&f.Name, &f.Description}
		},
		check: func(t *txn, f *ServiceGroupFields, _ *ServiceGroup) error {
			if err := requireText("name", &f.Name, maxName); err != nil {
				return err
			}
			return maxLen("description", f.Description, maxText)
		},
		// Deleting a group leaves its services ungrouped: each gets
		// service_group_id null and a service.updated event.
		beforeDelete: func(t *txn, r *ServiceGroup) error {
			svcs, err := s.Services.where(t, "service_group_id = ?", r.ID)
			if err != nil {
				return err
			}
			for _, svc := range svcs {
				f := svc.Fields
				f.ServiceGroupID = nil
				if _, err := s.Services.update(t, svc, f); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
