package scheduling

import (
	"context"

	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slotwire/slotwire"

	"github.com/slotwire/slotwire/internal/store"
)

// Event types of time: fired by timers, and the notifications produced.
const (
	TypeReminder     = "appointment.reminder"
	TypeStarting     = "appointment.starting"
	TypeEnded        = "appointment.ended"
	TypeNotification = "notification.created"
)

// LateAfter is how long after its due time a timer's event is marked
// late (a node was down, or behind).
const LateAfter = 2 * time.Second

// timer is one stored timer.
type timer struct {
	id, tenant, appointment, kind, channel string
	before, offset                         time.Duration
	due                                    time.Time
}

// timersFor are the timers of a under n still to come at now: one per
// reminder and channel (start - before; a reminder whose moment has
// passed, because the appointment was booked or moved closer than that,
// never fires), one per starting and ended offset.
func timersFor(a *Appointment, n NotificationSettings, endpoints []time.Duration, now time.Time) []timer {
	if a.Status == StatusCancelled || a.Status == StatusNoShow {
		return nil
	}
	var out []timer
	add := func(tm timer) {
		if tm.due.After(now) {
			tm.id, tm.appointment = newID(PrefixTimer), a.ID
			out = append(out, tm)
		}
	}
	for _, r := range n.Reminders {
		for _, ch := range r.Channels {
			add(timer{kind: TypeReminder, channel: ch, before: time.Duration(r.Before), due: a.Start.Add(-time.Duration(r.Before))})
		}
	}
	for _, o := range offsets(n.Starting, endpoints, len(n.Starting) > 0) {
		add(timer{kind: TypeStarting, offset: o, due: a.Start.Add(o)})
	}
	for _, o := range offsets(n.Ended, endpoints, len(n.Ended) > 0) {
		add(timer{kind: TypeEnded, offset: o, due: a.End.Add(o)})
	}
	return out
}

// offsets are the tenant's offsets and, when the type is on, its
// endpoints' own, each once.
func offsets(tenant []Duration, endpoints []time.Duration, on bool) []time.Duration {
	if !on {
		return nil
	}
	seen := map[time.Duration]bool{}
	var out []time.Duration
	for _, o := range tenant {
		if !seen[time.Duration(o)] {
			seen[time.Duration(o)] = true
			out = append(out, time.Duration(o))
		}
	}
	for _, o := range endpoints {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// endpointOffsets are the tenant's endpoints' offsets.
func (t *txn) endpointOffsets() ([]time.Duration, error) {
	if t.svc == nil || t.svc.cfg.EndpointOffsets == nil {
		return nil, nil
	}
	return t.svc.cfg.EndpointOffsets(t.ctx, t.tx, t.tenant)
}

// syncTimers replaces a's timers: they move with it, and go when it is
// cancelled, marked a no-show or deleted (gone).
func (t *txn) syncTimers(a *Appointment, gone bool) error {
	if _, err := t.exec(`DELETE FROM sched_timers WHERE appointment_id = ?`, a.ID); err != nil {
		return err
	}
	if gone {
		return nil
	}
	n, err := t.settings()
	if err != nil {
		return err
	}
	eps, err := t.endpointOffsets()
	if err != nil {
		return err
	}
	return t.insertTimers(timersFor(a, n, eps, t.now))
}

func (t *txn) insertTimers(tms []timer) error {
	for _, tm := range tms {
		if _, err := t.exec(`INSERT INTO sched_timers (id, tenant_id, appointment_id, kind, before_s, channel, offset_s, due_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tm.id, t.tenant, tm.appointment, tm.kind, int64(tm.before/time.Second),
			tm.channel, int64(tm.offset/time.Second), tm.due.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// resyncTimers replaces the timers of every appointment of the tenant
// that may still have one, under new settings.
func (t *txn) resyncTimers(n NotificationSettings) error {
	if _, err := t.exec(`DELETE FROM sched_timers WHERE tenant_id = ?`, t.tenant); err != nil {
		return err
	}
	eps, err := t.endpointOffsets()
	if err != nil {
		return err
	}
	var late time.Duration // the latest moment after an end a timer may come
	for _, o := range offsets(n.Ended, eps, true) {
		late = max(late, o)
	}
	rows, err := t.query(`SELECT `+apptCols+` FROM sched_appointments WHERE tenant_id = ? AND end_at > ?
		AND status NOT IN ('cancelled', 'no_show')`, t.tenant, t.now.Add(-late).UnixMilli())
	if err != nil {
		return err
	}
	as, err := collectRows(rows, scanAppt)
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := t.insertTimers(timersFor(a, n, eps, t.now)); err != nil {
			return err
		}
	}
	return nil
}

// FireDue fires, in one transaction, up to limit timers due at the
// clock's now, oldest first: each emits its event and is deleted with it,
// so a timer fires once even with several nodes (on PostgreSQL the rows
// are taken with SKIP LOCKED, so nodes share the work).
func (s *Service) FireDue(ctx context.Context, limit int) (int, error) {
	fired := 0
	res, err := s.cfg.Store.Write(ctx, func(ctx context.Context, tx store.WriteTx) error {
		fired = 0
		t := &txn{ctx: ctx, tx: tx, w: tx, now: s.now(), svc: s}
		due, err := t.dueTimers(limit)
		if err != nil || len(due) == 0 {
			return err
		}
		ids := make([]any, len(due))
		for i, tm := range due {
			ids[i] = tm.id
			if err := s.fire(&txn{ctx: ctx, tx: tx, w: tx, tenant: tm.tenant, now: t.now, svc: s}, tm); err != nil {
				return err
			}
		}
		_, err = t.exec(`DELETE FROM sched_timers WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, ids...)
		fired = len(due)
		return err
	})
	if err != nil {
		return 0, err
	}
	if s.cfg.Wake != nil && len(res.EndpointIDs) > 0 {
		s.cfg.Wake(res.EndpointIDs...)
	}
	return fired, nil
}

func (t *txn) dueTimers(limit int) ([]timer, error) {
	q := `SELECT id, tenant_id, appointment_id, kind, before_s, channel, offset_s, due_at FROM sched_timers
		WHERE due_at <= ? ORDER BY due_at LIMIT ?`
	if t.tx.Dialect().Name() == "postgres" {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := t.query(q, t.now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	return collectRows(rows, func(r scanner) (timer, error) {
		var tm timer
		var before, offset, due int64
		err := r.Scan(&tm.id, &tm.tenant, &tm.appointment, &tm.kind, &before, &tm.channel, &offset, &due)
		tm.before, tm.offset, tm.due = time.Duration(before)*time.Second, time.Duration(offset)*time.Second, time.UnixMilli(due).UTC()
		return tm, err
	})
}

// fire emits a timer's event with the appointment expanded, its due time
// and whether it is late; a reminder also produces its notification.
func (s *Service) fire(t *txn, tm timer) error {
	a, err := s.getAppt(t, tm.appointment)
	if err != nil {
		return fmt.Errorf("scheduling: timer %s: %w", tm.id, err)
	}
	v, err := s.view(t, a)
	if err != nil {
		return err
	}
	late := t.now.Sub(tm.due) > LateAfter
	if tm.kind != TypeReminder {
		var src *slotwire.EventSource
		if a.Source.App != "" || a.Source.Type != "" {
			src = &slotwire.EventSource{App: a.Source.App, Type: a.Source.Type}
		}
		return t.emitAt(a.ID, tm.kind, src, with(v, "offset", Duration(tm.offset), "due_at", tm.due, "late", late),
			slotwire.OffsetString(tm.offset))
	}
	before := Duration(tm.before)
	if err := t.apptEvent(a, tm.kind, with(v, "channel", tm.channel, "before", before, "due_at", tm.due, "late", late)); err != nil {
		return err
	}
	return t.notify(v, "reminder", "", tm.channel, "before", before)
}

// triggers are the appointment changes a confirmation may follow.
var triggers = map[string]string{"appointment.created": TriggerBooked, "appointment.rescheduled": TriggerRescheduled,
	"appointment.cancelled": TriggerCancelled}

// changed follows an appointment change (its event emitted): its timers
// move or go, and the confirmations the tenant wants are produced, in the
// change's transaction.
func (t *txn) changed(a *Appointment, typ string, v any) error {
	switch typ {
	case TypeReminder, TypeStarting, TypeEnded:
		return nil // fired by a timer: nothing changed
	}
	if err := t.syncTimers(a, typ == "appointment.deleted"); err != nil {
		return err
	}
	trigger := triggers[typ]
	if o, ok := v.(*object); ok {
		v = o.base
	}
	if view, ok := v.(*AppointmentView); ok && trigger != "" {
		return t.confirm(view, trigger)
	}
	return nil
}

// confirm produces the confirmations the tenant wants for a change.
func (t *txn) confirm(v *AppointmentView, trigger string) error {
	n, err := t.settings()
	if err != nil || !contains(n.Confirmations.On, trigger) {
		return err
	}
	for _, ch := range n.Confirmations.Channels {
		if err := t.notify(v, "confirmation", trigger, ch); err != nil {
			return err
		}
	}
	return nil
}

// collectRows scans every row and closes rows.
func collectRows[T any](rows interface {
	scanner
	Next() bool
	Err() error
	Close() error
}, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scheduling: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return out, nil
}

// timerPoll bounds how long the timer loop sleeps: timers made by other
// nodes are seen within it.
const timerPoll = 250 * time.Millisecond

// timerBatch is how many timers one transaction fires; notifyBatch how
// many notifications a worker takes at once.
const (
	timerBatch  = 500
	notifyBatch = 32
)

// Timers runs the timer loop of a node: Start, then Stop.
type Timers struct {
	s      *Service
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Timers returns the node's timer loop.
func (s *Service) Timers() *Timers { return &Timers{s: s, done: make(chan struct{})} }

// Start fires due timers until Stop.
func (tl *Timers) Start(ctx context.Context) {
	ctx, tl.cancel = context.WithCancel(ctx)
	go tl.run(ctx)
}

// Stop ends the loop and waits for it.
func (tl *Timers) Stop() {
	tl.once.Do(func() {
		if tl.cancel != nil {
			tl.cancel()
			<-tl.done
		}
	})
}

func (tl *Timers) run(ctx context.Context) {
	defer close(tl.done)
	var pruned time.Time
	for ctx.Err() == nil {
		if now := tl.s.now(); now.Sub(pruned) >= time.Minute {
			pruned = now
			if _, err := tl.s.PruneNotifications(ctx, now); err != nil && ctx.Err() == nil {
				tl.s.log.Error("pruning notifications", "err", err)
			}
		}
		if n, err := tl.s.SendDue(ctx, notifyBatch); err != nil && ctx.Err() == nil {
			tl.s.log.Error("sending notifications", "err", err)
		} else if n == notifyBatch {
			continue
		}
		wait := timerPoll
		if next, ok := tl.s.nextDue(ctx); ok {
			if wait = next.Sub(tl.s.now()); wait <= 0 {
				n, err := tl.s.FireDue(ctx, timerBatch)
				if err != nil && ctx.Err() == nil {
					tl.s.log.Error("firing timers", "err", err)
					wait = timerPoll
				}
				if n > 0 {
					continue
				}
				wait = timerPoll / 5 // due, but another node holds them
			}
			wait = min(wait, timerPoll)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// nextDue is when the earliest timer is due.
func (s *Service) nextDue(ctx context.Context) (time.Time, bool) {
	var next *int64
	err := s.read(ctx, "", func(t *txn) error { return t.queryRow(`SELECT MIN(due_at) FROM sched_timers`).Scan(&next) })
	if err != nil || next == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(*next), true
}

// ResyncTimers replaces the timers of the tenant's appointments still to
// come (after its endpoints' offsets changed).
func (s *Service) ResyncTimers(ctx context.Context, tenantID string) error {
	return s.write(ctx, tenantID, "timers.resync", func(t *txn) error {
		n, err := t.settings()
		if err != nil {
			return err
		}
		return t.resyncTimers(n)
	})
}
