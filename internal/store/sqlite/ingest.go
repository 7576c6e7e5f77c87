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
	if err := db.checkVersions(ctx, tx, b.Versions); err != nil {
		return err
	}
	if err := db.checkKeys(ctx, tx, b.Items); err != nil {
		return err
	}
	in := &ingest{db: db, tx: tx, b: b, now: sqlstore.MS(b.Now), seenKeys: map[[2]string]string{},
		findKey: db.hot.in(ctx, tx, sqlFindKey), insEvent: db.hot.in(ctx, tx, sqlInsEvent),
		insDeliver: db.hot.in(ctx, tx, sqlInsDeliver), live: map[string]bool{}}
	if err := in.liveEndpoints(ctx, db.hot.in(ctx, tx, sqlLive)); err != nil {
		return err
	}
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
	// live are the targeted endpoints that still exist and are enabled
	// (the write lock is held: they stay so until the commit).
	live map[string]bool
}

// liveEndpoints finds which of the batch's target endpoints are still
// enabled, once each: a target whose endpoint was deleted or disabled
// since the fan-out gets no delivery.
func (in *ingest) liveEndpoints(ctx context.Context, st *sql.Stmt) error {
	seen := map[string]bool{}
	for _, it := range in.b.Items {
		for _, t := range it.Targets {
			id := t.Endpoint.ID
			if seen[id] {
				continue
			}
			seen[id] = true
			var one int
			err := st.QueryRowContext(ctx, id).Scan(&one)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: ingest: endpoints: %w", err)
			}
			in.live[id] = err == nil
		}
	}
	return nil
}

// checkKeys refuses the batch when an API key that published some of it
// was revoked meanwhile (store.RevokedKeysError names them).
func (db *DB) checkKeys(ctx context.Context, tx *sql.Tx, items []*store.IngestItem) error {
	var st *sql.Stmt
	var revoked []string
	seen := map[string]bool{}
	for _, it := range items {
		h := it.KeyHash
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if st == nil {
			st = db.hot.in(ctx, tx, sqlKeyExists)
		}
		var one int
		err := st.QueryRowContext(ctx, h).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			revoked = append(revoked, h)
		} else if err != nil {
			return fmt.Errorf("sqlite: api key: %w", err)
		}
	}
	if len(revoked) > 0 {
		return &store.RevokedKeysError{Hashes: revoked}
	}
	return nil
}

// checkVersions returns an error wrapping store.ErrStale when a tenant's
// endpoints version is no longer the one the batch was fanned out with.
func (db *DB) checkVersions(ctx context.Context, tx *sql.Tx, versions map[string]int64) error {
	if len(versions) == 0 {
		return nil
	}
	st := db.hot.in(ctx, tx, sqlVersion)
	for tenant, want := range versions {
		var have int64
		if err := st.QueryRowContext(ctx, tenant).Scan(&have); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: endpoints version: %w", err)
		}
		if have != want {
			return fmt.Errorf("sqlite: tenant %s: %w", tenant, store.ErrStale)
		}
	}
	return nil
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
	if !in.live[ep.ID] {
		return nil // the endpoint was deleted or disabled since the fan-out
	}
	ev := it.Event
	d := slotwire.Delivery{ID: slotwire.NewID(slotwire.PrefixDelivery), TenantID: ev.TenantID, EndpointID: ep.ID,
		EventID: ev.ID, EventType: ev.Type, Status: slotwire.StatusPending, OrderingKey: ep.DeliveryKey(ev),
		CreatedAt: in.b.Now, UpdatedAt: in.b.Now}
	var owner, until any
	if leased {
		d.Status = slotwire.StatusInflight
		owner, until = in.b.Owner, sqlstore.MS(in.b.LeaseUntil)
	}
	res, err := in.insDeliver.ExecContext(ctx, d.ID, d.TenantID, d.EndpointID, d.EventID, d.EventType, d.Status,
		in.now, owner, until, d.OrderingKey, in.now, in.now)
	if err == nil {
		d.Seq, err = res.LastInsertId() // seq is the rowid
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
