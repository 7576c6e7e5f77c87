package scheduling

import (
	"context"
	"strings"
	"time"
)

// Booking statuses.
const (
	BookingBooked    = "booked"
	BookingCancelled = "cancelled"
)

// Booking is a customer's seat on a group event.
type Booking struct {
	ID           string     `json:"id"`
	GroupEventID string     `json:"group_event_id"`
	CustomerID   string     `json:"customer_id"`
	Status       string     `json:"status"`
	CancelledAt  *time.Time `json:"cancelled_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

const bookingCols = `id, group_event_id, customer_id, status, cancelled_at, created_at, updated_at`

func scanBooking(row scanner) (*Booking, error) {
	b := &Booking{}
	err := row.Scan(&b.ID, &b.GroupEventID, &b.CustomerID, &b.Status, optMSCol{&b.CancelledAt}, msCol{&b.CreatedAt}, msCol{&b.UpdatedAt})
	return b, err
}

func (s *Service) bookingsWhere(t *txn, cond string, args ...any) ([]*Booking, error) {
	rows, err := t.query(`SELECT `+bookingCols+` FROM sched_group_event_bookings WHERE tenant_id = ? AND `+cond+` ORDER BY id`,
		append([]any{t.tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Booking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// booking loads a booking of one group event (404 otherwise).
func (s *Service) booking(t *txn, groupEventID, id string) (*Booking, error) {
	bs, err := s.bookingsWhere(t, "group_event_id = ? AND id = ?", groupEventID, id)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, notFound("booking", id)
	}
	return bs[0], nil
}

// bookingData is the data of group_event.booking.* events: the booking with
// its customer and group event expanded.
func (s *Service) bookingData(t *txn, b *Booking, g *GroupEvent, kv ...any) (any, error) {
	c, err := s.Customers.get(t, b.CustomerID)
	if err != nil {
		return nil, err
	}
	gv, err := s.gevView(t, g)
	if err != nil {
		return nil, err
	}
	return with(b, append([]any{"customer", c, "group_event", gv}, kv...)...), nil
}

// takeSeat reserves a seat on g for customerID: 409 when g is full or the
// customer already holds a seat there, 422 when g has ended.
func (s *Service) takeSeat(t *txn, g *GroupEvent, customerID string) error {
	if !g.End.After(t.now) {
		return unprocessable("group event %s has ended", g.ID)
	}
	// Taking the seat is one conditional write, so concurrent bookings
	// cannot overfill the event; it also locks the event's row (PostgreSQL)
	// before the duplicate check below.
	res, err := t.exec(`UPDATE sched_group_events SET booked = booked + 1 WHERE tenant_id = ? AND id = ? AND booked < capacity`, t.tenant, g.ID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return conflict("group event %s is full (capacity %d)", g.ID, g.Capacity)
	}
	dup, err := t.exists(`SELECT 1 FROM sched_group_event_bookings WHERE tenant_id = ? AND group_event_id = ? AND customer_id = ? AND status = ?`,
		t.tenant, g.ID, customerID, BookingBooked)
	if err != nil {
		return err
	}
	if dup {
		return conflict("customer %s already has a seat on group event %s", customerID, g.ID)
	}
	g.Booked++
	return nil
}

func (s *Service) releaseSeat(t *txn, g *GroupEvent) error {
	if _, err := t.exec(`UPDATE sched_group_events SET booked = booked - 1 WHERE tenant_id = ? AND id = ? AND booked > 0`, t.tenant, g.ID); err != nil {
		return err
	}
	if g.Booked > 0 {
		g.Booked--
	}
	return nil
}

// BookGroupEvent gives a customer a seat and emits
// group_event.booking.created.
func (s *Service) BookGroupEvent(ctx context.Context, tenantID, groupEventID, customerID string) (*Booking, error) {
	var b *Booking
	err := s.write(ctx, tenantID, "group_event.booking.create", func(t *txn) error {
		customerID = strings.TrimSpace(customerID)
		if customerID == "" {
			return invalid("customer_id is required")
		}
		g, err := s.getGev(t, groupEventID)
		if err != nil {
			return err
		}
		if _, err := s.Customers.get(t, customerID); err != nil {
			return unprocessable("customer_id: customer %s not found", customerID)
		}
		if err := s.takeSeat(t, g, customerID); err != nil {
			return err
		}
		b = &Booking{ID: newID(PrefixBooking), GroupEventID: g.ID, CustomerID: customerID, Status: BookingBooked, CreatedAt: t.now, UpdatedAt: t.now}
		if _, err := t.exec(`INSERT INTO sched_group_event_bookings (`+bookingCols+`, tenant_id) VALUES (`+placeholders(8)+`)`,
			b.ID, b.GroupEventID, b.CustomerID, b.Status, optMSCol{&b.CancelledAt}, msCol{&b.CreatedAt}, msCol{&b.UpdatedAt}, t.tenant); err != nil {
			return err
		}
		d, err := s.bookingData(t, b, g)
		if err != nil {
			return err
		}
		return t.event(g.ID, "group_event.booking.created", d)
	})
	return b, err
}

// ListBookings returns a group event's bookings, oldest first.
func (s *Service) ListBookings(ctx context.Context, tenantID, groupEventID string) ([]*Booking, error) {
	var out []*Booking
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		if _, err := s.getGev(t, groupEventID); err != nil {
			return err
		}
		out, err = s.bookingsWhere(t, "group_event_id = ?", groupEventID)
		return err
	})
	return out, err
}

func (s *Service) cancelBooking(t *txn, g *GroupEvent, b *Booking, by string) (*Booking, error) {
	if b.Status != BookingBooked {
		return nil, conflict("booking %s is already %s", b.ID, b.Status)
	}
	if err := s.releaseSeat(t, g); err != nil {
		return nil, err
	}
	cp := *b
	now := t.now
	cp.Status, cp.CancelledAt, cp.UpdatedAt = BookingCancelled, &now, t.now
	if _, err := t.exec(`UPDATE sched_group_event_bookings SET status = ?, cancelled_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		cp.Status, now.UnixMilli(), now.UnixMilli(), t.tenant, cp.ID); err != nil {
		return nil, err
	}
	d, err := s.bookingData(t, &cp, g, "cancelled_by", by)
	if err != nil {
		return nil, err
	}
	return &cp, t.event(g.ID, "group_event.booking.cancelled", d)
}

// CancelBooking frees a customer's seat and emits
// group_event.booking.cancelled.
func (s *Service) CancelBooking(ctx context.Context, tenantID, groupEventID, bookingID string) (*Booking, error) {
	var out *Booking
	err := s.write(ctx, tenantID, "group_event.booking.cancel", func(t *txn) error {
		g, err := s.getGev(t, groupEventID)
		if err != nil {
			return err
		}
		b, err := s.booking(t, groupEventID, bookingID)
		if err != nil {
			return err
		}
		out, err = s.cancelBooking(t, g, b, CancelledByStaff)
		return err
	})
	return out, err
}

// RebookBooking moves a seat to another group event (409 when that one is
// full) and emits group_event.booking.rebooked with the previous group
// event.
func (s *Service) RebookBooking(ctx context.Context, tenantID, groupEventID, bookingID, targetID string) (*Booking, error) {
	var out *Booking
	err := s.write(ctx, tenantID, "group_event.booking.rebook", func(t *txn) error {
		targetID = strings.TrimSpace(targetID)
		if targetID == "" {
			return invalid("group_event_id is required")
		}
		from, err := s.getGev(t, groupEventID)
		if err != nil {
			return err
		}
		b, err := s.booking(t, groupEventID, bookingID)
		if err != nil {
			return err
		}
		if b.Status != BookingBooked {
			return conflict("booking %s is %s and cannot be rebooked", b.ID, b.Status)
		}
		if targetID == groupEventID {
			return unprocessable("group_event_id: booking %s is already on group event %s", b.ID, targetID)
		}
		to, err := s.getGev(t, targetID)
		if err != nil {
			return unprocessable("group_event_id: group event %s not found", targetID)
		}
		if err := s.takeSeat(t, to, b.CustomerID); err != nil {
			return err
		}
		if err := s.releaseSeat(t, from); err != nil {
			return err
		}
		cp := *b
		cp.GroupEventID, cp.UpdatedAt = to.ID, t.now
		if _, err := t.exec(`UPDATE sched_group_event_bookings SET group_event_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			cp.GroupEventID, t.now.UnixMilli(), t.tenant, cp.ID); err != nil {
			return err
		}
		fromView, err := s.gevView(t, from)
		if err != nil {
			return err
		}
		d, err := s.bookingData(t, &cp, to, "previous", map[string]any{"group_event_id": from.ID, "group_event": fromView})
		if err != nil {
			return err
		}
		out = &cp
		return t.event(to.ID, "group_event.booking.rebooked", d)
	})
	return out, err
}
