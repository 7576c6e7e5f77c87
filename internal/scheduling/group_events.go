package scheduling

import (
	"context"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// GroupEventInput is what a client writes for a group event (a class, a
// tour): POST body, or a JSON merge patch for PATCH.
type GroupEventInput struct {
	Name        string    `json:"name"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Capacity    int       `json:"capacity"`
	ResourceIDs []string  `json:"resource_ids"`
	ServiceID   *string   `json:"service_id"`
}

// GroupEvent is a stored group event; Booked counts its taken seats.
type GroupEvent struct {
	ID string `json:"id"`
	GroupEventInput
	Booked    int       `json:"booked"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GroupEventView is a group event with its resources and service expanded.
type GroupEventView struct {
	*GroupEvent
	Resources []*Resource `json:"resources"`
	Service   *ServiceObj `json:"service"`
}

const gevCols = `id, name, start_at, end_at, capacity, resource_ids, service_id, booked, created_at, updated_at`

func gevArgs(g *GroupEvent) []any {
	return []any{g.ID, g.Name, msCol{&g.Start}, msCol{&g.End}, g.Capacity, jsonCol{&g.ResourceIDs},
		optStrCol{&g.ServiceID}, g.Booked, msCol{&g.CreatedAt}, msCol{&g.UpdatedAt}}
}

func scanGev(row scanner) (*GroupEvent, error) {
	g := &GroupEvent{}
	err := row.Scan(&g.ID, &g.Name, msCol{&g.Start}, msCol{&g.End}, &g.Capacity, jsonCol{&g.ResourceIDs},
		optStrCol{&g.ServiceID}, &g.Booked, msCol{&g.CreatedAt}, msCol{&g.UpdatedAt})
	return g, err
}

// groupEventsUsing lists the tenant's group events matching a condition.
func groupEventsUsing(t *txn, cond string, args ...any) ([]*GroupEvent, error) {
	rows, err := t.query(`SELECT `+gevCols+` FROM sched_group_events WHERE tenant_id = ? AND `+cond+` ORDER BY id`,
		append([]any{t.tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*GroupEvent
	for rows.Next() {
		g, err := scanGev(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *Service) getGev(t *txn, id string) (*GroupEvent, error) {
	g, err := scanGev(t.queryRow(`SELECT `+gevCols+` FROM sched_group_events WHERE tenant_id = ? AND id = ?`, t.tenant, id))
	if isNoRows(err) {
		return nil, notFound("group event", id)
	}
	return g, err
}

func (s *Service) gevView(t *txn, g *GroupEvent) (*GroupEventView, error) {
	v := &GroupEventView{GroupEvent: g, Resources: []*Resource{}}
	for _, id := range g.ResourceIDs {
		r, err := s.Resources.get(t, id)
		if err != nil {
			return nil, err
		}
		v.Resources = append(v.Resources, r)
	}
	if g.ServiceID != nil {
		var err error
		if v.Service, err = s.Services.get(t, *g.ServiceID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Service) checkGroupEvent(t *txn, in *GroupEventInput, booked int) error {
	if err := requireText("name", &in.Name, maxName); err != nil {
		return err
	}
	normTime(&in.Start)
	normTime(&in.End)
	if err := checkSpan(in.Start, in.End); err != nil {
		return err
	}
	if in.Capacity < 1 || in.Capacity > 100000 {
		return invalid("capacity must be a whole number from 1 to 100000")
	}
	if in.Capacity < booked {
		return conflict("capacity %d is below the %d seats already booked", in.Capacity, booked)
	}
	if in.ResourceIDs == nil {
		in.ResourceIDs = []string{}
	}
	if err := checkIDs("resource_ids", in.ResourceIDs); err != nil {
		return err
	}
	for _, id := range in.ResourceIDs {
		if _, err := s.Resources.get(t, id); err != nil {
			return unprocessable("resource_ids: resource %s not found", id)
		}
	}
	optRef(&in.ServiceID)
	if in.ServiceID != nil {
		if _, err := s.Services.get(t, *in.ServiceID); err != nil {
			return unprocessable("service_id: service %s not found", *in.ServiceID)
		}
	}
	return nil
}

// CreateGroupEvent stores a group event and emits group_event.created.
func (s *Service) CreateGroupEvent(ctx context.Context, tenantID string, in GroupEventInput) (*GroupEvent, error) {
	var g *GroupEvent
	err := s.write(ctx, tenantID, "group_event.create", func(t *txn) error {
		if err := s.checkGroupEvent(t, &in, 0); err != nil {
			return err
		}
		g = &GroupEvent{ID: newID(PrefixGroupEvent), GroupEventInput: in, CreatedAt: t.now, UpdatedAt: t.now}
		if _, err := t.exec(`INSERT INTO sched_group_events (`+gevCols+`, tenant_id) VALUES (`+placeholders(11)+`)`,
			append(gevArgs(g), t.tenant)...); err != nil {
			return err
		}
		v, err := s.gevView(t, g)
		if err != nil {
			return err
		}
		return t.event(g.ID, "group_event.created", v)
	})
	return g, err
}

// GetGroupEvent returns one group event.
func (s *Service) GetGroupEvent(ctx context.Context, tenantID, id string) (*GroupEvent, error) {
	var g *GroupEvent
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		g, err = s.getGev(t, id)
		return err
	})
	return g, err
}

// ListGroupEvents returns a page of group events, newest first.
func (s *Service) ListGroupEvents(ctx context.Context, tenantID string, p store.Page) ([]*GroupEvent, error) {
	var out []*GroupEvent
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		rows, err := t.newestFirst(`SELECT `+gevCols+` FROM sched_group_events`, p)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			g, err := scanGev(rows)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateGroupEvent applies a JSON merge patch (capacity may not drop below
// the seats booked: 409) and emits group_event.updated.
func (s *Service) UpdateGroupEvent(ctx context.Context, tenantID, id string, patch []byte) (*GroupEvent, error) {
	var g *GroupEvent
	err := s.write(ctx, tenantID, "group_event.update", func(t *txn) error {
		old, err := s.getGev(t, id)
		if err != nil {
			return err
		}
		in, err := applyPatch(old.GroupEventInput, patch)
		if err != nil {
			return err
		}
		if err := s.checkGroupEvent(t, &in, old.Booked); err != nil {
			return err
		}
		prev, err := changes(old.GroupEventInput, in)
		if err != nil {
			return err
		}
		if len(prev) == 0 {
			g = old
			return nil
		}
		g = &GroupEvent{ID: old.ID, GroupEventInput: in, Booked: old.Booked, CreatedAt: old.CreatedAt, UpdatedAt: t.now}
		cols := strings.Split(gevCols, ", ")[1:]
		for i := range cols {
			cols[i] += " = ?"
		}
		args := append(gevArgs(g)[1:], t.tenant, g.ID)
		if _, err := t.exec(`UPDATE sched_group_events SET `+strings.Join(cols, ", ")+` WHERE tenant_id = ? AND id = ?`, args...); err != nil {
			return err
		}
		v, err := s.gevView(t, g)
		if err != nil {
			return err
		}
		return t.event(g.ID, "group_event.updated", with(v, "previous", prev))
	})
	return g, err
}

// DeleteGroupEvent cancels the event's booked seats (a
// group_event.booking.cancelled each, cancelled_by "system"), removes it
// and emits group_event.deleted.
func (s *Service) DeleteGroupEvent(ctx context.Context, tenantID, id string) error {
	return s.write(ctx, tenantID, "group_event.delete", func(t *txn) error {
		g, err := s.getGev(t, id)
		if err != nil {
			return err
		}
		bookings, err := s.bookingsWhere(t, "group_event_id = ? AND status = ?", id, BookingBooked)
		if err != nil {
			return err
		}
		for _, b := range bookings {
			if _, err := s.cancelBooking(t, g, b, CancelledBySystem); err != nil {
				return err
			}
		}
		v, err := s.gevView(t, g)
		if err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM sched_group_event_bookings WHERE tenant_id = ? AND group_event_id = ?`, t.tenant, id); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM sched_group_events WHERE tenant_id = ? AND id = ?`, t.tenant, id); err != nil {
			return err
		}
		return t.event(g.ID, "group_event.deleted", v)
	})
}
