package scheduling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/store"
)

// Notification statuses.
const (
	NotificationPending = "pending"
	NotificationSent    = "sent"
	NotificationSkipped = "skipped"
	NotificationFailed  = "failed"
)

// notifyLease is how long a worker holds a notification it took;
// notifyRetries are the delays after transient e-mail failures.
const notifyLease = time.Minute

var notifyRetries = []time.Duration{30 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}

// notification is one taken by a worker.
type notification struct {
	id, tenant, kind, channel string
	attempts                  int
	data                      map[string]any
	decision                  *Decision
	log                       []LogEntry // this round's lines
}

// LogEntry is one line of a notification's log.
type LogEntry struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// Notification is a notification as the API shows it.
type Notification struct {
	ID            string          `json:"id"`
	AppointmentID string          `json:"appointment_id"`
	Kind          string          `json:"kind"`
	Channel       string          `json:"channel"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	Decision      *Decision       `json:"decision,omitempty"`
	Log           []LogEntry      `json:"log"`
	Data          json.RawMessage `json:"data"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// notify records a notification to send (its worker asks the sync hook,
// sends the e-mail and emits notification.created), in the transaction
// of the change or timer that produced it.
func (t *txn) notify(v *AppointmentView, kind, trigger, channel string, extra ...any) error {
	rcpt := map[string]string{"customer_id": "", "name": "", "email": "", "phone": ""}
	if c := v.Customer; c != nil {
		rcpt = map[string]string{"customer_id": c.ID, "name": c.Fields.Name, "email": c.Fields.Email, "phone": c.Fields.Phone}
	}
	id := newID(PrefixNotification)
	data := map[string]any{"id": id, "kind": kind, "channel": channel, "recipient": rcpt, "appointment": v}
	if trigger != "" {
		data["trigger"] = trigger
	}
	for i := 0; i+1 < len(extra); i += 2 {
		data[extra[i].(string)] = extra[i+1]
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("scheduling: notification: %w", err)
	}
	n := t.now.UnixMilli()
	_, err = t.exec(`INSERT INTO sched_notifications (id, tenant_id, appointment_id, kind, channel, data, status, next_at,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`, id, t.tenant, v.ID, kind, channel, string(raw), n, n, n)
	return err
}

// SendDue takes up to limit due notifications and sends them (a few at
// once); it returns how many it took.
func (s *Service) SendDue(ctx context.Context, limit int) (int, error) {
	var due bool
	err := s.read(ctx, "", func(t *txn) (err error) {
		due, err = t.exists(`SELECT 1 FROM sched_notifications WHERE status = 'pending' AND next_at <= ?`, t.now.UnixMilli())
		return err
	})
	if err != nil || !due {
		return 0, err
	}
	ns, err := s.takeNotifications(ctx, limit)
	if err != nil || len(ns) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, n := range ns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.process(ctx, n); err != nil && ctx.Err() == nil {
				s.log.Error("notification", "id", n.id, "err", err)
			}
		}()
	}
	wg.Wait()
	return len(ns), nil
}

// takeNotifications leases due notifications to this worker.
func (s *Service) takeNotifications(ctx context.Context, limit int) ([]*notification, error) {
	var out []*notification
	_, err := s.cfg.Store.Write(ctx, func(ctx context.Context, tx store.WriteTx) error {
		out = nil
		t := &txn{ctx: ctx, tx: tx, w: tx, now: s.now()}
		q := `SELECT id, tenant_id, kind, channel, attempts, data, decision FROM sched_notifications
			WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`
		if tx.Dialect().Name() == "postgres" {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := t.query(q, t.now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		if out, err = collectRows(rows, scanNotification); err != nil {
			return err
		}
		for _, n := range out {
			n.attempts++
			if _, err := t.exec(`UPDATE sched_notifications SET attempts = ?, next_at = ? WHERE id = ?`,
				n.attempts, t.now.Add(notifyLease).UnixMilli(), n.id); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func scanNotification(r scanner) (*notification, error) {
	n := &notification{}
	var data, decision string
	if err := r.Scan(&n.id, &n.tenant, &n.kind, &n.channel, &n.attempts, &data, &decision); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &n.data); err != nil {
		return nil, err
	}
	if decision != "" {
		n.decision = &Decision{}
		if err := json.Unmarshal([]byte(decision), n.decision); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// process asks the hook (once), sends the e-mail and records the outcome.
func (s *Service) process(ctx context.Context, n *notification) error {
	msg, err := s.message(ctx, n)
	if err != nil {
		return err
	}
	if n.decision == nil {
		d := s.ask(ctx, n, msg)
		n.decision = &d
		n.logf("before hook: %s", describeDecision(d))
	}
	if n.decision.Action == "skip" {
		return s.finish(ctx, n, NotificationSkipped, nil)
	}
	if o := n.decision.Override; o != nil {
		applyOverride(msg, o)
	}
	if n.channel != ChannelEmail {
		n.logf("%s: produced for the receivers of notification.created", n.channel)
		return s.finish(ctx, n, NotificationSent, msg)
	}
	return s.sendEmail(ctx, n, msg)
}

func (s *Service) sendEmail(ctx context.Context, n *notification, msg map[string]any) error {
	to, _ := msg["to"].(string)
	if to == "" {
		n.logf("e-mail: the customer has no e-mail address")
		return s.finish(ctx, n, NotificationFailed, nil)
	}
	if s.cfg.Mailer == nil {
		n.logf("e-mail: no SMTP server is configured on this node (--smtp-url)")
		return s.retry(ctx, n)
	}
	err := s.cfg.Mailer.Send(ctx, mail.Message{To: to, Subject: msg["subject"].(string), Text: msg["body"].(string),
		Headers: map[string]string{"X-Slotwire-Notification": n.id}})
	switch {
	case err == nil:
		n.logf("e-mail: accepted by the SMTP server")
		return s.finish(ctx, n, NotificationSent, msg)
	case mail.Permanent(err):
		n.logf("e-mail: %v", err)
		return s.finish(ctx, n, NotificationFailed, nil)
	}
	n.logf("e-mail: %v", err)
	return s.retry(ctx, n)
}

// retry puts the notification back for later, or fails it after the
// last retry.
func (s *Service) retry(ctx context.Context, n *notification) error {
	if n.attempts > len(notifyRetries) {
		return s.finish(ctx, n, NotificationFailed, nil)
	}
	next := s.now().Add(notifyRetries[n.attempts-1])
	return s.update(ctx, n, NotificationPending, next, nil)
}

// finish records the final status; a sent notification emits
// notification.created in the same transaction.
func (s *Service) finish(ctx context.Context, n *notification, status string, msg map[string]any) error {
	return s.update(ctx, n, status, s.now(), msg)
}

func (s *Service) update(ctx context.Context, n *notification, status string, next time.Time, msg map[string]any) error {
	dec, _ := json.Marshal(n.decision)
	return s.write(ctx, n.tenant, "notification."+status, func(t *txn) error {
		var stored string
		if err := t.queryRow(`SELECT log FROM sched_notifications WHERE id = ?`, n.id).Scan(&stored); err != nil {
			return fmt.Errorf("scheduling: notification log: %w", err)
		}
		var log []LogEntry
		_ = json.Unmarshal([]byte(stored), &log)
		entries, _ := json.Marshal(append(log, n.log...))
		res, err := t.exec(`UPDATE sched_notifications SET status = ?, next_at = ?, decision = ?, log = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND attempts = ?`,
			status, next.UnixMilli(), string(dec), string(entries), t.now.UnixMilli(), n.id, n.attempts)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 || status != NotificationSent {
			return nil // another worker took it over after our lease ended
		}
		data := n.data
		data["sync"] = map[string]string{"action": n.decision.Action, "note": n.decision.Note}
		data["message"] = map[string]any{"to": msg["to"], "subject": msg["subject"], "body": msg["body"]}
		key, _ := data["appointment"].(map[string]any)["id"].(string)
		return t.event(key, TypeNotification, data)
	})
}

func (n *notification) logf(format string, args ...any) {
	n.log = append(n.log, LogEntry{At: time.Now().UTC(), Message: fmt.Sprintf(format, args...)})
}

func describeDecision(d Decision) string {
	switch {
	case d.Action == "skip":
		return "skip (" + d.Reason + ")"
	case d.Override != nil:
		return "send with override (" + d.Note + ")"
	}
	return "send (" + d.Note + ")"
}

func applyOverride(msg map[string]any, o *Override) {
	if o.Subject != "" {
		msg["subject"] = o.Subject
	}
	if o.Body != "" {
		msg["body"] = o.Body
	}
	if o.To != "" {
		msg["to"] = strings.TrimSpace(o.To)
	}
}

func (s *Service) registerNotificationLog(srv httpx.Router) {
	srv.HandleTenant("GET /v1/notifications/{id}", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.GetNotification(r.Context(), tenantID(r), r.PathValue("id"))
		s.respond(w, r, http.StatusOK, n, err)
	})
	srv.HandleTenant("GET /v1/notifications", func(w http.ResponseWriter, r *http.Request) {
		list(s, w, r, func(n *Notification) string { return n.ID }, func(p store.Page) ([]*Notification, error) {
			return s.ListNotifications(r.Context(), tenantID(r), p)
		})
	})
}

const notificationCols = `id, appointment_id, kind, channel, status, attempts, decision, log, data, created_at, updated_at`

func scanNotificationRow(r scanner) (*Notification, error) {
	var n Notification
	var decision, log, data string
	var created, updated int64
	if err := r.Scan(&n.ID, &n.AppointmentID, &n.Kind, &n.Channel, &n.Status, &n.Attempts, &decision, &log, &data,
		&created, &updated); err != nil {
		return nil, err
	}
	if decision != "" && decision != "null" {
		n.Decision = &Decision{}
		_ = json.Unmarshal([]byte(decision), n.Decision)
	}
	_ = json.Unmarshal([]byte(log), &n.Log)
	n.Data, n.CreatedAt, n.UpdatedAt = json.RawMessage(data), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &n, nil
}

// GetNotification returns one of the tenant's notifications with its log.
func (s *Service) GetNotification(ctx context.Context, tenantID, id string) (*Notification, error) {
	var n *Notification
	err := s.read(ctx, tenantID, func(t *txn) error {
		var err error
		n, err = scanNotificationRow(t.queryRow(`SELECT `+notificationCols+` FROM sched_notifications
			WHERE tenant_id = ? AND id = ?`, t.tenant, id))
		if isNoRows(err) {
			return notFound("notification", id)
		}
		return err
	})
	return n, err
}

// ListNotifications returns the tenant's notifications, newest first.
func (s *Service) ListNotifications(ctx context.Context, tenantID string, p store.Page) ([]*Notification, error) {
	var out []*Notification
	err := s.read(ctx, tenantID, func(t *txn) error {
		rows, err := t.newestFirst(`SELECT `+notificationCols+` FROM sched_notifications`, p)
		if err != nil {
			return err
		}
		out, err = collectRows(rows, scanNotificationRow)
		return err
	})
	return out, err
}

// pruneBatch bounds one pruning transaction.
const pruneBatch = 500

// PruneNotifications deletes, in batches, the notifications that ended
// (sent, skipped, failed) longer ago than Config.Retention: they hold the
// customer's address and the appointment, kept no longer than the
// deliveries are. It returns how many it deleted.
func (s *Service) PruneNotifications(ctx context.Context, now time.Time) (int, error) {
	if s.cfg.Retention <= 0 {
		return 0, nil
	}
	total := 0
	for ctx.Err() == nil {
		var n int64
		_, err := s.cfg.Store.Write(ctx, func(ctx context.Context, tx store.WriteTx) error {
			t := &txn{ctx: ctx, tx: tx, w: tx, now: now, svc: s}
			res, err := t.exec(`DELETE FROM sched_notifications WHERE id IN (SELECT id FROM sched_notifications
				WHERE status <> 'pending' AND updated_at < ? LIMIT ?)`, now.Add(-s.cfg.Retention).UnixMilli(), pruneBatch)
			if err == nil {
				n, _ = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneBatch {
			break
		}
	}
	return total, nil
}
