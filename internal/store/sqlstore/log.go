package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// GetEvent returns one of a tenant's events.
func (db *DB) GetEvent(ctx context.Context, tenantID, id string) (*slotwire.Event, error) {
	var e slotwire.Event
	var key, okey sql.NullString
	var created int64
	var archived sql.NullInt64
	err := db.R.QueryRowContext(ctx, db.q(`SELECT id, tenant_id, type, idempotency_key, ordering_key, payload, created_at, archived_at
		FROM events WHERE tenant_id = ? AND id = ?`), tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &key, &okey, &e.Payload, &created, &archived)
	if err != nil {
		return nil, db.scanErr("event", err)
	}
	e.IdempotencyKey, e.OrderingKey, e.CreatedAt, e.ArchivedAt = key.String, okey.String, FromMS(created), nullMS(archived)
	if e.ArchivedAt != nil {
		e.Payload = nil
		return &e, nil
	}
	var body struct {
		Source *slotwire.EventSource `json:"source"`
		Data   json.RawMessage       `json:"data"`
	}
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		return nil, db.errf("event "+id+" payload", err)
	}
	e.Data, e.Source = body.Data, body.Source
	return &e, nil
}

// ListDeliveries lists deliveries by the filter, newest first.
func (db *DB) ListDeliveries(ctx context.Context, tenantID string, f store.DeliveryFilter) ([]*slotwire.Delivery, error) {
	w := newWhere(`SELECT `+DeliveryCols+` FROM deliveries`, tenantID)
	w.eq("endpoint_id", f.EndpointID)
	w.eq("event_id", f.EventID)
	switch f.Status {
	case "":
	case store.StatusRetrying:
		w.add(`status = 'pending' AND attempts > 0`)
	case store.StatusArchived:
		w.add(`archived_at IS NOT NULL`)
	default:
		w.add(`status = ?`, f.Status)
	}
	if cond, ok := statusClasses[f.StatusClass]; ok {
		w.add(cond)
	}
	w.typ("event_type", f.EventType)
	w.window(f.Since, f.Until)
	q, args := w.newestFirst(f.Page)
	rows, err := db.R.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, db.errf("list deliveries", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Delivery, error) { return db.ScanDelivery(s) })
}

// where builds a tenant's filtered listing, one condition at a time.
type where struct {
	q    string
	args []any
}

func newWhere(sel, tenantID string) *where {
	return &where{q: sel + ` WHERE tenant_id = ?`, args: []any{tenantID}}
}

func (w *where) add(cond string, v ...any) { w.q += ` AND ` + cond; w.args = append(w.args, v...) }

// eq adds col = v when v is set.
func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col+` = ?`, v)
	}
}

// typ matches a type column against a type, or a prefix pattern
// ("appointment.*": every type starting "appointment."), when t is set.
func (w *where) typ(col, t string) {
	if p, ok := strings.CutSuffix(t, ".*"); ok {
		w.add(`substr(`+col+`, 1, ?) = ?`, len(p)+1, p+".")
	} else {
		w.eq(col, t)
	}
}

// window adds created_at bounds.
func (w *where) window(since, until time.Time) {
	if !since.IsZero() {
		w.add(`created_at >= ?`, MS(since))
	}
	if !until.IsZero() {
		w.add(`created_at < ?`, MS(until))
	}
}

// newestFirst ends the query with the page: ids before the cursor, newest
// first, at most the limit.
func (w *where) newestFirst(p store.Page) (string, []any) {
	if p.Before != "" {
		w.add(`id < ?`, p.Before)
	}
	return w.q + ` ORDER BY id DESC LIMIT ?`, append(w.args, limitOf(p.Limit))
}

// statusClasses are the conditions of DeliveryFilter.StatusClass.
var statusClasses = map[string]string{
	"2xx":     `last_status_code BETWEEN 200 AND 299`,
	"4xx":     `last_status_code BETWEEN 400 AND 499`,
	"5xx":     `last_status_code BETWEEN 500 AND 599`,
	"network": `last_status_code = 0 AND attempts > 0`,
}

// ListEvents returns a tenant's events, newest first, without their data.
func (db *DB) ListEvents(ctx context.Context, tenantID string, f store.EventFilter) ([]*slotwire.Event, error) {
	w := newWhere(`SELECT id, type, idempotency_key, ordering_key, created_at, archived_at FROM events`, tenantID)
	w.typ("type", f.Type)
	w.window(f.Since, f.Until)
	q, args := w.newestFirst(f.Page)
	rows, err := db.R.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, db.errf("list events", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Event, error) {
		e := &slotwire.Event{TenantID: tenantID}
		var key, okey sql.NullString
		var created int64
		var archived sql.NullInt64
		if err := s.Scan(&e.ID, &e.Type, &key, &okey, &created, &archived); err != nil {
			return nil, db.errf("list events", err)
		}
		e.IdempotencyKey, e.OrderingKey, e.CreatedAt, e.ArchivedAt = key.String, okey.String, FromMS(created), nullMS(archived)
		return e, nil
	})
}

// GetDelivery returns one of a tenant's deliveries.
func (db *DB) GetDelivery(ctx context.Context, tenantID, id string) (*slotwire.Delivery, error) {
	d, err := db.ScanDelivery(db.R.QueryRowContext(ctx, db.q(`SELECT `+DeliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if err != nil {
		return nil, err
	}
	if err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM deliveries WHERE replay_of = ?`), id).Scan(&d.ReplayCount); err != nil {
		return nil, db.errf("replay count", err)
	}
	return d, nil
}

// Recover replays, in seq order, the endpoint's failed deliveries created
// in [since, until) that have no replay yet.
func (db *DB) Recover(ctx context.Context, tenantID, endpointID string, since, until, now time.Time) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, db.q(`SELECT id FROM deliveries d WHERE tenant_id = ? AND endpoint_id = ? AND status = 'failed'
			AND created_at >= ? AND created_at < ? AND archived_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.replay_of = d.id) ORDER BY seq`),
			tenantID, endpointID, MS(since), MS(until))
		if err != nil {
			return db.errf("recover", err)
		}
		ids, err := collect(rows, func(s Scanner) (string, error) { var id string; return id, s.Scan(&id) })
		if err != nil {
			return db.errf("recover", err)
		}
		for _, id := range ids {
			if _, err := db.replayTx(ctx, tx, tenantID, id, slotwire.NewID(slotwire.PrefixDelivery), now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Feed returns an endpoint's deliveries after afterID, oldest first (the
// deliveries_endpoint index serves it).
func (db *DB) Feed(ctx context.Context, tenantID, endpointID, afterID string, settled time.Time, limit int) ([]*slotwire.Delivery, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+DeliveryCols+` FROM deliveries
		WHERE tenant_id = ? AND endpoint_id = ? AND id > ? AND created_at < ?
		AND (replay_of IS NULL OR replay_of = '') AND status <> 'filtered' AND archived_at IS NULL ORDER BY id LIMIT ?`),
		tenantID, endpointID, afterID, MS(settled), limitOf(limit))
	if err != nil {
		return nil, db.errf("feed", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Delivery, error) { return db.ScanDelivery(s) })
}

// ListAttempts returns a delivery's attempts, oldest first.
func (db *DB) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*slotwire.Attempt, error) {
	if _, err := db.GetDelivery(ctx, tenantID, deliveryID); err != nil {
		return nil, err
	}
	// A first attempt that succeeded is kept in the delivery's row.
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT 1, inline_at, last_status_code, inline_ms, inline_body, '',
			inline_req_headers, inline_resp_headers
		FROM deliveries WHERE id = ? AND inline_at IS NOT NULL
		UNION ALL SELECT number, at, status_code, duration_ms, response_body, error, request_headers, response_headers
		FROM attempts WHERE delivery_id = ?
		ORDER BY 2, 1`), deliveryID, deliveryID)
	if err != nil {
		return nil, db.errf("list attempts", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Attempt, error) {
		a := slotwire.Attempt{DeliveryID: deliveryID}
		var at int64
		if err := s.Scan(&a.Number, &at, &a.StatusCode, &a.DurationMS, &a.ResponseBody, &a.Error,
			&a.RequestHeaders, &a.ResponseHeaders); err != nil {
			return nil, db.errf("list attempts", err)
		}
		a.At = FromMS(at)
		return &a, nil
	})
}

// DeliveryPayload returns the body sent for a delivery.
func (db *DB) DeliveryPayload(ctx context.Context, tenantID, id string) ([]byte, error) {
	var p []byte
	var archived sql.NullInt64
	err := db.R.QueryRowContext(ctx, db.q(`SELECT e.payload, d.archived_at FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = ? AND d.id = ?`), tenantID, id).Scan(&p, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("delivery")
	}
	if err != nil {
		return nil, db.errf("delivery payload", err)
	}
	if archived.Valid {
		return nil, slotwire.ArchivedError(id, FromMS(archived.Int64))
	}
	return p, nil
}

// Replay queues the delivery's event to its endpoint again.
func (db *DB) Replay(ctx context.Context, tenantID, id, newID string, now time.Time) (*slotwire.Delivery, error) {
	var out *slotwire.Delivery
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.replayTx(ctx, tx, tenantID, id, newID, now)
		return err
	})
	return out, err
}

// replayTx creates the replay of delivery id inside tx.
func (db *DB) replayTx(ctx context.Context, tx *sql.Tx, tenantID, id, newID string, now time.Time) (*slotwire.Delivery, error) {
	orig, err := db.ScanDelivery(tx.QueryRowContext(ctx, db.q(`SELECT `+DeliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if err != nil {
		return nil, err
	}
	if orig.ArchivedAt != nil {
		return nil, slotwire.ArchivedError(orig.ID, *orig.ArchivedAt)
	}
	n := MS(now)
	// A replay keeps the original's ordering key: it waits behind the
	// key's unfinished deliveries.
	return db.ScanDelivery(tx.QueryRowContext(ctx, db.q(`INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type,
		status, next_attempt_at, replay_of, ordering_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING `+DeliveryCols),
		newID, orig.TenantID, orig.EndpointID, orig.EventID, orig.EventType, n, orig.ID, orig.OrderingKey, n, n))
}
