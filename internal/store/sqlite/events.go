package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Ingest stores a batch of events and their deliveries in one transaction.
func (db *DB) Ingest(ctx context.Context, b *store.IngestBatch) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return ingestTx(ctx, tx, b) })
}

func ingestTx(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error {
	{
		findKey, err := tx.PrepareContext(ctx, `SELECT id, created_at FROM events WHERE tenant_id = ? AND idempotency_key = ?`)
		if err != nil {
			return fmt.Errorf("sqlite: ingest: %w", err)
		}
		defer findKey.Close()
		insEvent, err := tx.PrepareContext(ctx, `INSERT INTO events (id, tenant_id, type, idempotency_key, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: ingest: %w", err)
		}
		defer insEvent.Close()
		insDelivery, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, lease_owner, lease_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`)
		if err != nil {
			return fmt.Errorf("sqlite: ingest: %w", err)
		}
		defer insDelivery.Close()

		now := ms(b.Now)
		endpoints := map[string]map[string]*slotwire.Endpoint{} // tenant -> enabled endpoints by id
		seenKeys := map[[2]string]string{}
		for _, it := range b.Items {
			ev := it.Event
			if ev.IdempotencyKey != "" {
				k := [2]string{ev.TenantID, ev.IdempotencyKey}
				if id, ok := seenKeys[k]; ok {
					it.Duplicate, ev.ID = true, id
					continue
				}
				var id string
				var created int64
				err := findKey.QueryRowContext(ctx, ev.TenantID, ev.IdempotencyKey).Scan(&id, &created)
				switch {
				case err == nil && created > now-b.IdempotencyWindow.Milliseconds():
					it.Duplicate, ev.ID = true, id
					seenKeys[k] = id
					continue
				case err == nil:
					// The key has expired: free it for this event.
					if _, err := tx.ExecContext(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = ?`, id); err != nil {
						return fmt.Errorf("sqlite: ingest: %w", err)
					}
				case !errors.Is(err, sql.ErrNoRows):
					return fmt.Errorf("sqlite: ingest: idempotency: %w", err)
				}
				seenKeys[k] = ev.ID
			}
			var key any
			if ev.IdempotencyKey != "" {
				key = ev.IdempotencyKey
			}
			if _, err := insEvent.ExecContext(ctx, ev.ID, ev.TenantID, ev.Type, key, ev.Payload, ms(ev.CreatedAt)); err != nil {
				return fmt.Errorf("sqlite: ingest event: %w", err)
			}
			live, ok := endpoints[ev.TenantID]
			if !ok {
				eps, err := enabledEndpoints(ctx, tx, ev.TenantID)
				if err != nil {
					return err
				}
				live = byID(eps)
				endpoints[ev.TenantID] = live
			}
			for _, t := range it.Targets {
				ep, ok := live[t.Endpoint.ID]
				if !ok {
					continue // deleted or disabled since the fan-out
				}
				take := t.Leased
				d := slotwire.Delivery{
					ID: slotwire.NewID(slotwire.PrefixDelivery), TenantID: ev.TenantID, EndpointID: ep.ID,
					EventID: ev.ID, EventType: ev.Type, Status: slotwire.StatusPending,
					CreatedAt: b.Now, UpdatedAt: b.Now,
				}
				var owner, until any
				if take {
					d.Status = slotwire.StatusInflight
					owner, until = b.Owner, ms(b.LeaseUntil)
				}
				if err := insDelivery.QueryRowContext(ctx, d.ID, d.TenantID, d.EndpointID, d.EventID, d.EventType, d.Status,
					now, owner, until, now, now).Scan(&d.Seq); err != nil {
					return fmt.Errorf("sqlite: ingest delivery: %w", err)
				}
				it.Deliveries++
				if take {
					it.Jobs = append(it.Jobs, &store.Job{Delivery: d, Endpoint: *ep, Payload: ev.Payload})
				}
			}
		}
		return nil
	}
}

func byID(eps []*slotwire.Endpoint) map[string]*slotwire.Endpoint {
	m := make(map[string]*slotwire.Endpoint, len(eps))
	for _, e := range eps {
		m[e.ID] = e
	}
	return m
}

// EnabledEndpoints returns a tenant's enabled endpoints in id order.
func (db *DB) EnabledEndpoints(ctx context.Context, tenantID string) ([]*slotwire.Endpoint, error) {
	return enabledEndpoints(ctx, db.r, tenantID)
}

type querier = sqlrows.Querier

func enabledEndpoints(ctx context.Context, tx querier, tenantID string) ([]*slotwire.Endpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: endpoints of %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*slotwire.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetEvent returns one of a tenant's events.
func (db *DB) GetEvent(ctx context.Context, tenantID, id string) (*slotwire.Event, error) {
	var e slotwire.Event
	var key sql.NullString
	var created int64
	err := db.r.QueryRowContext(ctx, `SELECT id, tenant_id, type, idempotency_key, payload, created_at FROM events WHERE tenant_id = ? AND id = ?`,
		tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &key, &e.Payload, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event: %w", slotwire.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get event: %w", err)
	}
	e.IdempotencyKey, e.CreatedAt = key.String, fromMS(created)
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		return nil, fmt.Errorf("sqlite: event %s payload: %w", id, err)
	}
	e.Data = body.Data
	return &e, nil
}

type dialect struct{}

func (dialect) Name() string           { return "sqlite" }
func (dialect) Rebind(q string) string { return q }

// Outbox runs fn in a write transaction in which emitted events are stored
// with their deliveries.
func (db *DB) Outbox(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx, d store.Dialect, emit store.Emit) error) (store.OutboxResult, error) {
	var res store.OutboxResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = sqlrows.Outbox(ctx, tx, dialect{}, ingestTx, enabledEndpoints, fn)
		return err
	})
	if err != nil {
		return store.OutboxResult{}, err
	}
	return res, nil
}

var _ store.Outbox = (*DB)(nil)

// Capabilities: an SQLite file has one node; it neither notifies nor
// elects.
func (db *DB) Capabilities() store.Capabilities { return store.Capabilities{} }
