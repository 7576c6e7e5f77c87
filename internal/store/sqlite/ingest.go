package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// ingestTx stores the batch with prepared statements on the single writer
// connection: check the endpoints versions of a cached fan-out, look up
// idempotency keys, insert the events, insert the deliveries of targets
// whose endpoint is still enabled.
func (db *DB) ingestTx(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error {
	if err := db.CheckVersions(ctx, tx, b.Versions); err != nil {
		return err
	}
	in, err := db.prepareIngest(ctx, tx, b)
	if err != nil {
		return err
	}
	defer in.close()
	for _, it := range b.Items {
		dup, err := in.duplicate(ctx, it)
		if err != nil || dup {
			if err != nil {
				return err
			}
			continue
		}
		if err := in.insert(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// ingest is one batch being stored.
type ingest struct {
	db                            *DB
	tx                            *sql.Tx
	b                             *store.IngestBatch
	now                           int64
	findKey, insEvent, insDeliver *sql.Stmt
	seenKeys                      map[[2]string]string
}

func (db *DB) prepareIngest(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) (*ingest, error) {
	in := &ingest{db: db, tx: tx, b: b, now: sqlstore.MS(b.Now), seenKeys: map[[2]string]string{}}
	var err error
	prep := func(q string) *sql.Stmt {
		var s *sql.Stmt
		if err == nil {
			s, err = tx.PrepareContext(ctx, q)
		}
		return s
	}
	in.findKey = prep(`SELECT id, created_at FROM events WHERE tenant_id = ? AND idempotency_key = ?`)
	in.insEvent = prep(`INSERT INTO events (id, tenant_id, type, idempotency_key, ordering_key, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	// A target whose endpoint was deleted or disabled since the fan-out
	// inserts nothing (and returns no seq).
	in.insDeliver = prep(`INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
		next_attempt_at, lease_owner, lease_until, ordering_key, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM endpoints WHERE id = ? AND enabled = 1) RETURNING seq`)
	if err != nil {
		in.close()
		return nil, fmt.Errorf("sqlite: ingest: %w", err)
	}
	return in, nil
}

func (in *ingest) close() {
	for _, s := range []*sql.Stmt{in.findKey, in.insEvent, in.insDeliver} {
		if s != nil {
			s.Close()
		}
	}
}

// duplicate applies the idempotency key: an event whose key was seen
// within the window (in the database or earlier in the batch) takes the
// first event's id and stores nothing; an expired key is freed.
func (in *ingest) duplicate(ctx context.Context, it *store.IngestItem) (bool, error) {
	ev := it.Event
	if ev.IdempotencyKey == "" {
		return false, nil
	}
	k := [2]string{ev.TenantID, ev.IdempotencyKey}
	if id, ok := in.seenKeys[k]; ok {
		it.Duplicate, ev.ID = true, id
		return true, nil
	}
	var id string
	var created int64
	err := in.findKey.QueryRowContext(ctx, ev.TenantID, ev.IdempotencyKey).Scan(&id, &created)
	switch {
	case err == nil && created > in.now-in.b.IdempotencyWindow.Milliseconds():
		it.Duplicate, ev.ID = true, id
		in.seenKeys[k] = id
		return true, nil
	case err == nil:
		if _, err := in.tx.ExecContext(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = ?`, id); err != nil {
			return false, fmt.Errorf("sqlite: ingest: %w", err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("sqlite: ingest: idempotency: %w", err)
	}
	in.seenKeys[k] = ev.ID
	return false, nil
}

// insert stores the event and a delivery per live target.
func (in *ingest) insert(ctx context.Context, it *store.IngestItem) error {
	ev := it.Event
	var key, okey any
	if ev.IdempotencyKey != "" {
		key = ev.IdempotencyKey
	}
	if ev.OrderingKey != "" {
		okey = ev.OrderingKey
	}
	if _, err := in.insEvent.ExecContext(ctx, ev.ID, ev.TenantID, ev.Type, key, okey, ev.Payload, sqlstore.MS(ev.CreatedAt)); err != nil {
		return fmt.Errorf("sqlite: ingest event: %w", err)
	}
	for _, t := range it.Targets {
		if err := in.deliver(ctx, it, t.Endpoint, t.Leased); err != nil {
			return err
		}
	}
	return nil
}

func (in *ingest) deliver(ctx context.Context, it *store.IngestItem, ep *slotwire.Endpoint, leased bool) error {
	ev := it.Event
	d := slotwire.Delivery{ID: slotwire.NewID(slotwire.PrefixDelivery), TenantID: ev.TenantID, EndpointID: ep.ID,
		EventID: ev.ID, EventType: ev.Type, Status: slotwire.StatusPending, OrderingKey: ep.DeliveryKey(ev),
		CreatedAt: in.b.Now, UpdatedAt: in.b.Now}
	var owner, until any
	if leased {
		d.Status = slotwire.StatusInflight
		owner, until = in.b.Owner, sqlstore.MS(in.b.LeaseUntil)
	}
	err := in.insDeliver.QueryRowContext(ctx, d.ID, d.TenantID, d.EndpointID, d.EventID, d.EventType, d.Status,
		in.now, owner, until, d.OrderingKey, in.now, in.now, ep.ID).Scan(&d.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the endpoint was deleted or disabled since the fan-out
	}
	if err != nil {
		return fmt.Errorf("sqlite: ingest delivery: %w", err)
	}
	it.Deliveries++
	if leased {
		it.Jobs = append(it.Jobs, &store.Job{Delivery: d, Endpoint: *ep, Payload: ev.Payload})
	}
	return nil
}
