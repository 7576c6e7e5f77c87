package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// GetEvent returns one of a tenant's events.
func (db *DB) GetEvent(ctx context.Context, tenantID, id string) (*slotwire.Event, error) {
	var e slotwire.Event
	var key, okey sql.NullString
	var created int64
	err := db.R.QueryRowContext(ctx, db.q(`SELECT id, tenant_id, type, idempotency_key, ordering_key, payload, created_at FROM events
		WHERE tenant_id = ? AND id = ?`), tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &key, &okey, &e.Payload, &created)
	if err != nil {
		return nil, db.scanErr("event", err)
	}
	e.IdempotencyKey, e.OrderingKey, e.CreatedAt = key.String, okey.String, FromMS(created)
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

// ListDeliveries lists an endpoint's deliveries, newest first.
func (db *DB) ListDeliveries(ctx context.Context, tenantID string, f store.DeliveryFilter) ([]*slotwire.Delivery, error) {
	q := `SELECT ` + DeliveryCols + ` FROM deliveries WHERE tenant_id = ? AND endpoint_id = ?`
	args := []any{tenantID, f.EndpointID}
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"event_id", f.EventID}} {
		if c.v != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	if f.Before != "" {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := db.R.QueryContext(ctx, db.q(q), append(args, limitOf(f.Limit))...)
	if err != nil {
		return nil, db.errf("list deliveries", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Delivery, error) { return db.ScanDelivery(s) })
}

// GetDelivery returns one of a tenant's deliveries.
func (db *DB) GetDelivery(ctx context.Context, tenantID, id string) (*slotwire.Delivery, error) {
	return db.ScanDelivery(db.R.QueryRowContext(ctx, db.q(`SELECT `+DeliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`), tenantID, id))
}

// ListAttempts returns a delivery's attempts, oldest first.
func (db *DB) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*slotwire.Attempt, error) {
	if _, err := db.GetDelivery(ctx, tenantID, deliveryID); err != nil {
		return nil, err
	}
	// A first attempt that succeeded is kept in the delivery's row.
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT 1, inline_at, last_status_code, inline_ms, inline_body, ''
		FROM deliveries WHERE id = ? AND inline_at IS NOT NULL
		UNION ALL SELECT number, at, status_code, duration_ms, response_body, error FROM attempts WHERE delivery_id = ?
		ORDER BY 2, 1`), deliveryID, deliveryID)
	if err != nil {
		return nil, db.errf("list attempts", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Attempt, error) {
		a := slotwire.Attempt{DeliveryID: deliveryID}
		var at int64
		if err := s.Scan(&a.Number, &at, &a.StatusCode, &a.DurationMS, &a.ResponseBody, &a.Error); err != nil {
			return nil, db.errf("list attempts", err)
		}
		a.At = FromMS(at)
		return &a, nil
	})
}

// DeliveryPayload returns the body sent for a delivery.
func (db *DB) DeliveryPayload(ctx context.Context, tenantID, id string) ([]byte, error) {
	var p []byte
	err := db.R.QueryRowContext(ctx, db.q(`SELECT e.payload FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = ? AND d.id = ?`), tenantID, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("delivery")
	}
	if err != nil {
		return nil, db.errf("delivery payload", err)
	}
	return p, nil
}

// Replay queues the delivery's event to its endpoint again.
func (db *DB) Replay(ctx context.Context, tenantID, id, newID string, now time.Time) (*slotwire.Delivery, error) {
	var out *slotwire.Delivery
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		orig, err := db.ScanDelivery(tx.QueryRowContext(ctx, db.q(`SELECT `+DeliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`), tenantID, id))
		if err != nil {
			return err
		}
		n := MS(now)
		// A replay keeps the original's ordering key: it waits behind the
		// key's unfinished deliveries.
		out, err = db.ScanDelivery(tx.QueryRowContext(ctx, db.q(`INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type,
			status, next_attempt_at, replay_of, ordering_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING `+DeliveryCols),
			newID, orig.TenantID, orig.EndpointID, orig.EventID, orig.EventType, n, orig.ID, orig.OrderingKey, n, n))
		return err
	})
	return out, err
}
