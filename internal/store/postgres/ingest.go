package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

type tenantKey struct{ tenant, key string }

type keyedEvent struct {
	id      string
	created int64
}

// ingestTx stores the batch with a fixed number of statements, whatever its
// size: look up idempotency keys, free expired ones, insert the events,
// load the tenants' endpoints, insert the deliveries.
func (db *DB) ingestTx(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error {
	now := sqlstore.MS(b.Now)

	// Idempotency keys already stored.
	var kTenants, kKeys []string
	asked := map[tenantKey]bool{}
	for _, it := range b.Items {
		ev := it.Event
		if k := (tenantKey{ev.TenantID, ev.IdempotencyKey}); ev.IdempotencyKey != "" && !asked[k] {
			asked[k] = true
			kTenants, kKeys = append(kTenants, k.tenant), append(kKeys, k.key)
		}
	}
	stored := map[tenantKey]keyedEvent{}
	if len(kKeys) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT e.tenant_id, e.idempotency_key, e.id, e.created_at
			FROM events e JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, idempotency_key)
			ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.idempotency_key`, kTenants, kKeys)
		if err != nil {
			return fmt.Errorf("postgres: ingest: idempotency: %w", err)
		}
		for rows.Next() {
			var k tenantKey
			var e keyedEvent
			if err := rows.Scan(&k.tenant, &k.key, &e.id, &e.created); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: ingest: idempotency: %w", err)
			}
			stored[k] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: ingest: idempotency: %w", err)
		}
	}

	// Decide, in batch order, which events are new (same rules as sqlite).
	seenKeys := map[tenantKey]string{}
	var expired []string
	var fresh []*store.IngestItem
	for _, it := range b.Items {
		ev := it.Event
		if ev.IdempotencyKey != "" {
			k := tenantKey{ev.TenantID, ev.IdempotencyKey}
			if id, ok := seenKeys[k]; ok {
				it.Duplicate, ev.ID = true, id
				continue
			}
			if e, ok := stored[k]; ok {
				if e.created > now-b.IdempotencyWindow.Milliseconds() {
					it.Duplicate, ev.ID = true, e.id
					seenKeys[k] = e.id
					continue
				}
				// The key has expired: free it for this event.
				expired = append(expired, e.id)
			}
			seenKeys[k] = ev.ID
		}
		fresh = append(fresh, it)
	}
	if len(expired) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = ANY($1::text[])`, expired); err != nil {
			return fmt.Errorf("postgres: ingest: %w", err)
		}
	}
	if len(fresh) == 0 {
		return nil
	}

	fresh, err := db.insertEvents(ctx, tx, b, fresh)
	if err != nil {
		return err
	}
	return db.insertDeliveries(ctx, tx, b, fresh)
}

// insertEvents inserts the events and returns the items actually stored.
// An idempotency key that another transaction stored after this one looked
// (two nodes ingesting the same key at once) does not fail the batch: the
// event becomes a duplicate of the other one, as it would have had the
// other transaction committed first.
func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, b *store.IngestBatch, items []*store.IngestItem) ([]*store.IngestItem, error) {
	n := len(items)
	ids, tenants, types, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	okeys, payloads, created := make([]string, n), make([][]byte, n), make([]int64, n)
	for i, it := range items {
		ev := it.Event
		ids[i], tenants[i], types[i], keys[i], okeys[i] = ev.ID, ev.TenantID, ev.Type, ev.IdempotencyKey, ev.OrderingKey
		payloads[i], created[i] = ev.Payload, sqlstore.MS(ev.CreatedAt)
		if payloads[i] == nil {
			return nil, fmt.Errorf("postgres: ingest event %s: no payload", ev.ID)
		}
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO events (id, tenant_id, type, idempotency_key, ordering_key, payload, created_at)
		SELECT id, tenant_id, type, NULLIF(idempotency_key, ''), NULLIF(ordering_key, ''), payload, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bigint[])
			AS x(id, tenant_id, type, idempotency_key, ordering_key, payload, created_at)
		ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id`, ids, tenants, types, keys, okeys, payloads, created)
	if err != nil {
		return nil, fmt.Errorf("postgres: ingest event: %w", err)
	}
	inserted := make(map[string]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: ingest event: %w", err)
		}
		inserted[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ingest event: %w", err)
	}
	if len(inserted) == n {
		return items, nil
	}

	// Lost races: point each loser (and the in-batch duplicates of it) at
	// the event that holds the key.
	winner := map[string]string{} // lost event id -> stored event id
	kept := items[:0:0]
	for _, it := range items {
		ev := it.Event
		if inserted[ev.ID] {
			kept = append(kept, it)
			continue
		}
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM events WHERE tenant_id = $1 AND idempotency_key = $2`,
			ev.TenantID, ev.IdempotencyKey).Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("postgres: ingest event %s: idempotency conflict: %w", ev.ID, err)
		}
		winner[ev.ID] = id
		it.Duplicate, ev.ID = true, id
	}
	for _, it := range b.Items {
		if id, ok := winner[it.Event.ID]; ok && it.Duplicate {
			it.Event.ID = id
		}
	}
	return kept, nil
}

// insertDeliveries stores a delivery per target of the stored events whose
// endpoint still exists and is enabled.
func (db *DB) insertDeliveries(ctx context.Context, tx *sql.Tx, b *store.IngestBatch, items []*store.IngestItem) error {
	endpoints, err := db.liveEndpoints(ctx, tx, targetIDs(items))
	if err != nil || len(endpoints) == 0 {
		return err
	}
	rs := newDeliveryRows(b, items, endpoints)
	if len(rs.out) == 0 {
		return nil
	}
	seqs, err := rs.insert(ctx, tx, b)
	if err != nil {
		return err
	}
	for _, p := range rs.out {
		p.job.Delivery.Seq = seqs[p.job.Delivery.ID]
		p.item.Deliveries++
		if p.job.Delivery.Status == slotwire.StatusInflight {
			p.item.Jobs = append(p.item.Jobs, p.job)
		}
	}
	return nil
}

// targetIDs lists the endpoints the items target, once each.
func targetIDs(items []*store.IngestItem) []string {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		for _, t := range it.Targets {
			if id := t.Endpoint.ID; !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// deliveryRows are the deliveries of a batch as column arrays for unnest.
type deliveryRows struct {
	ids, tenants, eps, events, types, keys []string
	take                                   []bool
	out                                    []pendingJob
}

type pendingJob struct {
	item *store.IngestItem
	job  *store.Job
}

func newDeliveryRows(b *store.IngestBatch, items []*store.IngestItem, endpoints map[string]bool) *deliveryRows {
	rs := &deliveryRows{}
	for _, it := range items {
		ev := it.Event
		for _, target := range it.Targets {
			ep := target.Endpoint
			if !endpoints[ep.ID] {
				continue // deleted or disabled since the fan-out
			}
			d := slotwire.Delivery{ID: slotwire.NewID(slotwire.PrefixDelivery), TenantID: ev.TenantID, EndpointID: ep.ID,
				EventID: ev.ID, EventType: ev.Type, Status: slotwire.StatusPending, OrderingKey: ep.DeliveryKey(ev),
				CreatedAt: b.Now, UpdatedAt: b.Now}
			if target.Leased {
				d.Status = slotwire.StatusInflight
			}
			rs.ids, rs.tenants, rs.eps = append(rs.ids, d.ID), append(rs.tenants, d.TenantID), append(rs.eps, d.EndpointID)
			rs.events, rs.types, rs.take = append(rs.events, d.EventID), append(rs.types, d.EventType), append(rs.take, target.Leased)
			rs.keys = append(rs.keys, d.OrderingKey)
			rs.out = append(rs.out, pendingJob{it, &store.Job{Delivery: d, Endpoint: *ep, Payload: ev.Payload}})
		}
	}
	return rs
}

// insert stores the rows in one statement and returns their seq by id.
func (rs *deliveryRows) insert(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) (map[string]int64, error) {
	now := sqlstore.MS(b.Now)
	// ORDER BY ordinality makes seq follow batch order, as in sqlite.
	rows, err := tx.QueryContext(ctx, `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, lease_owner, lease_until, ordering_key, created_at, updated_at)
		SELECT id, tenant_id, endpoint_id, event_id, event_type, CASE WHEN take THEN 'inflight' ELSE 'pending' END,
			$7::bigint, CASE WHEN take THEN $8::text END, CASE WHEN take THEN $9::bigint END, okey, $7::bigint, $7::bigint
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $10::text[]) WITH ORDINALITY
			AS x(id, tenant_id, endpoint_id, event_id, event_type, take, okey, ord)
		ORDER BY ord
		RETURNING id, seq`, rs.ids, rs.tenants, rs.eps, rs.events, rs.types, rs.take, now, b.Owner, sqlstore.MS(b.LeaseUntil), rs.keys)
	if err != nil {
		return nil, fmt.Errorf("postgres: ingest delivery: %w", err)
	}
	defer rows.Close()
	seqs := make(map[string]int64, len(rs.ids))
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("postgres: ingest delivery: %w", err)
		}
		seqs[id] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ingest delivery: %w", err)
	}
	return seqs, nil
}

// liveEndpoints returns those of the endpoints that are still enabled, by
// id. They are locked FOR KEY SHARE so that an endpoint cannot be deleted
// under the deliveries about to reference it (the lock does not block
// updates of the endpoint nor FIFO claims).
func (db *DB) liveEndpoints(ctx context.Context, tx *sql.Tx, ids []string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM endpoints WHERE id = ANY($1::text[]) AND enabled ORDER BY id FOR KEY SHARE`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: ingest: endpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("postgres: ingest: endpoints: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ingest: endpoints: %w", err)
	}
	return out, nil
}
