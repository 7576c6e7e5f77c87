package scheduling

import (
	"database/sql"
	"errors"
	"sort"
	"time"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// checkAvailable refuses (409) to give a its resources when one of them is
// held by another appointment that overlaps it and is not cancelled, or
// when a resource that has shifts has none covering the whole of a.
//
// The resources' rows are written first (booking_seq), in id order: on
// PostgreSQL that row lock serialises concurrent bookings of one resource,
// so two transactions cannot both see it free; SQLite has one writer.
func (s *Service) checkAvailable(t *txn, a *Appointment) error {
	ids := append([]string(nil), a.ResourceIDs...)
	sort.Strings(ids)
	for _, id := range ids {
		res, err := t.exec(`UPDATE sched_resources SET booking_seq = booking_seq + 1 WHERE tenant_id = ? AND id = ?`, t.tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return unprocessable("resource_ids: resource %s not found", id)
		}
	}
	if a.Status == StatusCancelled {
		return nil
	}
	args := []any{t.tenant}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, StatusCancelled, a.ID, a.End.UnixMilli(), a.Start.UnixMilli())
	var other, rid string
	var os, oe time.Time
	err := t.queryRow(`SELECT a.id, ar.resource_id, a.start_at, a.end_at
		FROM sched_appointment_resources ar JOIN sched_appointments a ON a.id = ar.appointment_id
		WHERE a.tenant_id = ? AND ar.resource_id IN (`+placeholders(len(ids))+`) AND a.status <> ? AND a.id <> ?
		AND a.start_at < ? AND a.end_at > ?
		ORDER BY a.start_at, a.id LIMIT 1`, args...).Scan(&other, &rid, msCol{&os}, msCol{&oe})
	if err == nil {
		return conflict("resource %s is already booked from %s to %s by appointment %s", rid,
			os.Format(time.RFC3339), oe.Format(time.RFC3339), other)
	}
	if !isNoRows(err) {
		return err
	}
	for _, id := range a.ResourceIDs {
		if err := s.checkShifts(t, id, a.Start, a.End); err != nil {
			return err
		}
	}
	return nil
}

// checkShifts: a resource with shifts must have shifts that together
// cover [start, end) without a gap.
func (s *Service) checkShifts(t *txn, resourceID string, start, end time.Time) error {
	has, err := t.exists(`SELECT 1 FROM sched_shifts WHERE tenant_id = ? AND resource_id = ? LIMIT 1`, t.tenant, resourceID)
	if err != nil || !has {
		return err
	}
	shifts, err := s.Shifts.where(t, "resource_id = ? AND start_at < ? AND end_at > ?", resourceID, end.UnixMilli(), start.UnixMilli())
	if err != nil {
		return err
	}
	sort.Slice(shifts, func(i, j int) bool { return shifts[i].Fields.Start.Before(shifts[j].Fields.Start) })
	covered := start
	for _, sh := range shifts {
		if sh.Fields.Start.After(covered) {
			break
		}
		if sh.Fields.End.After(covered) {
			covered = sh.Fields.End
		}
	}
	if covered.Before(end) {
		return conflict("resource %s has no shift covering %s to %s", resourceID,
			covered.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return nil
}
