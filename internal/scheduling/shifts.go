package scheduling

import "time"

// ShiftFields are the writable fields of a shift: a span of time a resource
// works. A resource with at least one shift can only be booked inside its
// shifts; one without shifts is always available.
type ShiftFields struct {
	ResourceID string    `json:"resource_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// Shift is a stored shift.
type Shift = Record[ShiftFields]

func shiftCollection(s *Service) *Collection[ShiftFields] {
	return &Collection[ShiftFields]{
		s: s, name: "shift", label: "shift", path: "shifts", prefix: PrefixShift,
		table: "sched_shifts",
		cols:  []string{"resource_id", "start_at", "end_at"},
		ptrs: func(f *ShiftFields) []any {
			return []any{&f.ResourceID, msCol{&f.Start}, msCol{&f.End}}
		},
		check: func(t *txn, f *ShiftFields, _ *Shift) error {
			if err := requireText("resource_id", &f.ResourceID, maxName); err != nil {
				return err
			}
			normTime(&f.Start)
			normTime(&f.End)
			if err := checkSpan(f.Start, f.End); err != nil {
				return err
			}
			if _, err := s.Resources.get(t, f.ResourceID); err != nil {
				return unprocessable("resource_id: resource %s not found", f.ResourceID)
			}
			return nil
		},
		// Shift events carry the resource.
		expand: func(t *txn, r *Shift) (any, error) {
			res, err := s.Resources.get(t, r.Fields.ResourceID)
			if err != nil {
				return nil, err
			}
			return with(r, "resource", res), nil
		},
	}
}
