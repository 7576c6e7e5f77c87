package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// querier is a transaction or the pool: statements that stand alone run
// on the pool in autocommit, saving the BEGIN and COMMIT round trips.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type tenantKey struct{ tenant, key string }

type keyedEvent struct {
	id      string
	created int64
}

// Ingest stores a batch of events and their deliveries. The events and
// deliveries go in one statement, atomic on its own, run in autocommit:
// with the idempotency lookup (only when the batch has keys) that is at
// most two round trips, where a transaction would take five. Only a batch
// that must free expired idempotency keys takes a transaction.
func (db *DB) Ingest(ctx context.Context, b *store.IngestBatch) error {
	stored, err := lookupKeys(ctx, db.sql, b)
	if err != nil {
		return db.WriteErr(err)
	}
	p := decide(b, stored)
	if len(p.expired) > 0 {
		return db.InTx(ctx, func(tx *sql.Tx) error { return db.ingestTx(ctx, tx, b) })
	}
	p.apply()
	return db.WriteErr(insertBatch(ctx, db.sql, b, p.fresh))
}

// ingestTx stores the batch inside tx (a module's write transaction, or
// a batch freeing expired keys): look up idempotency keys, free expired
// ones, insert the events and their deliveries (insertSQL checks the
// endpoints versions).
func (db *DB) ingestTx(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error {
	stored, err := lookupKeys(ctx, tx, b)
	if err != nil {
		return err
	}
	p := decide(b, stored)
	p.apply()
	if len(p.expired) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = ANY($1::text[])`, p.expired); err != nil {
			return fmt.Errorf("postgres: ingest: %w", err)
		}
	}
	return insertBatch(ctx, tx, b, p.fresh)
}

// lookupKeys returns the stored events holding the batch's idempotency
// keys (none asked when the batch has no keys).
func lookupKeys(ctx context.Context, q querier, b *store.IngestBatch) (map[tenantKey]keyedEvent, error) {
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
	if len(kKeys) == 0 {
		return stored, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT e.tenant_id, e.idempotency_key, e.id, e.created_at
		FROM events e JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, idempotency_key)
		ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.idempotency_key`, kTenants, kKeys)
	if err != nil {
		return nil, fmt.Errorf("postgres: ingest: idempotency: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k tenantKey
		var e keyedEvent
		if err := rows.Scan(&k.tenant, &k.key, &e.id, &e.created); err != nil {
			return nil, fmt.Errorf("postgres: ingest: idempotency: %w", err)
		}
		stored[k] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ingest: idempotency: %w", err)
	}
	return stored, nil
}

// plan is what decide found: the items to store, the duplicates and the
// expired events whose key must be freed first.
type plan struct {
	fresh   []*store.IngestItem
	dups    map[*store.IngestItem]string // item -> id of the event it repeats
	expired []string
}

// decide applies the idempotency rules in batch order (the same as
// sqlite's): a key seen within the window, stored or earlier in the
// batch, makes a duplicate; an expired key is freed for the new event.
func decide(b *store.IngestBatch, stored map[tenantKey]keyedEvent) plan {
	now := sqlstore.MS(b.Now)
	p := plan{dups: map[*store.IngestItem]string{}}
	seen := map[tenantKey]string{}
	for _, it := range b.Items {
		ev := it.Event
		if ev.IdempotencyKey != "" {
			k := tenantKey{ev.TenantID, ev.IdempotencyKey}
			if id, ok := seen[k]; ok {
				p.dups[it] = id
				continue
			}
			if e, ok := stored[k]; ok {
				if e.created > now-b.IdempotencyWindow.Milliseconds() {
					p.dups[it], seen[k] = e.id, e.id
					continue
				}
				p.expired = append(p.expired, e.id)
			}
			seen[k] = ev.ID
		}
		p.fresh = append(p.fresh, it)
	}
	return p
}

// apply marks the duplicates: each takes the id of the event it repeats.
func (p plan) apply() {
	for it, id := range p.dups {
		it.Duplicate, it.Event.ID = true, id
	}
}

// insertSQL inserts the events ($1-$7) and, of the deliveries ($8-$14),
// those whose event was inserted and whose endpoint is still enabled
// (locked FOR KEY SHARE, so it cannot be deleted under them), in batch
// order so that seq follows it. It returns the ids of the events
// inserted ('e') and the id and seq of the deliveries ('d'). An event
// whose idempotency key another transaction stored meanwhile is skipped
// by ON CONFLICT, and so are its deliveries. When a tenant's endpoints
// version is no longer the one the fan-out used ($19, $20), nothing is
// inserted and the answer is one 's' row; when an API key that published
// some of the batch ($21) no longer exists, nothing is inserted and the
// answer has a 'k' row per such key.
const insertSQL = `WITH stale AS (
		SELECT 1 FROM unnest($19::text[], $20::bigint[]) AS v(id, version)
		JOIN tenants t ON t.id = v.id WHERE t.endpoints_version <> v.version
	), revoked AS (
		SELECT h FROM unnest($21::text[]) AS k(h) WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE hash = k.h)
	), ev AS (
		INSERT INTO events (id, tenant_id, type, idempotency_key, ordering_key, payload, created_at)
		SELECT id, tenant_id, type, NULLIF(idempotency_key, ''), NULLIF(ordering_key, ''), payload, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bigint[])
			AS x(id, tenant_id, type, idempotency_key, ordering_key, payload, created_at)
		WHERE NOT EXISTS (SELECT 1 FROM stale) AND NOT EXISTS (SELECT 1 FROM revoked)
		ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id
	), live AS (
		SELECT id FROM endpoints WHERE id = ANY($8::text[]) AND enabled FOR KEY SHARE
	), d AS (
		INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, lease_owner, lease_until, ordering_key, created_at, updated_at)
		SELECT x.id, x.tenant_id, x.endpoint_id, x.event_id, x.event_type, CASE WHEN x.take THEN 'inflight' ELSE 'pending' END,
			$15::bigint, CASE WHEN x.take THEN $16::text END, CASE WHEN x.take THEN $17::bigint END, x.okey, $15::bigint, $15::bigint
		FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[], $18::text[]) WITH ORDINALITY
			AS x(id, tenant_id, endpoint_id, event_id, event_type, take, okey, ord)
		WHERE x.endpoint_id IN (SELECT id FROM live) AND x.event_id IN (SELECT id FROM ev)
		ORDER BY x.ord
		RETURNING id, seq
	)
	SELECT 'e', id, 0::bigint FROM ev UNION ALL SELECT 'd', id, seq FROM d
	UNION ALL SELECT 's', '', 0::bigint WHERE EXISTS (SELECT 1 FROM stale)
	UNION ALL SELECT 'k', h, 0::bigint FROM revoked`

// insertBatch stores the fresh items and their deliveries with insertSQL,
// then fills the items' results.
func insertBatch(ctx context.Context, q querier, b *store.IngestBatch, items []*store.IngestItem) error {
	hashes := keyHashes(b.Items) // duplicates too: a revoked key gets no answer but 401
	if len(items) == 0 && len(hashes) == 0 {
		return nil
	}
	evs, err := newEventRows(items)
	if err != nil {
		return err
	}
	rs := newDeliveryRows(b, items)
	vTenants, versions := []string{}, []int64{}
	for t, v := range b.Versions {
		vTenants, versions = append(vTenants, t), append(versions, v)
	}
	rows, err := q.QueryContext(ctx, insertSQL, evs.ids, evs.tenants, evs.types, evs.keys, evs.okeys, evs.payloads, evs.created,
		targetIDs(items), rs.ids, rs.tenants, rs.eps, rs.events, rs.types, rs.take,
		sqlstore.MS(b.Now), b.Owner, sqlstore.MS(b.LeaseUntil), rs.keys, vTenants, versions, hashes)
	if err != nil {
		return fmt.Errorf("postgres: ingest: %w", err)
	}
	inserted, seqs, refused, err := readInserted(rows)
	if err != nil {
		return err
	}
	if refused.stale {
		return fmt.Errorf("postgres: ingest: %w", store.ErrStale)
	}
	if len(refused.keys) > 0 {
		return &store.RevokedKeysError{Hashes: refused.keys}
	}
	for _, p := range rs.out {
		if seq, ok := seqs[p.job.Delivery.ID]; ok {
			p.job.Delivery.Seq = seq
			p.item.Deliveries++
			if p.job.Delivery.Status == slotwire.StatusInflight {
				p.item.Jobs = append(p.item.Jobs, p.job)
			}
		}
	}
	if len(inserted) < len(items) {
		return lostRaces(ctx, q, b, items, inserted)
	}
	return nil
}

// refusal is why insertSQL stored nothing: a stale fan-out, revoked keys.
type refusal struct {
	stale bool
	keys  []string
}

// readInserted reads insertSQL's answer: the event ids inserted, the seq
// of each delivery inserted, and why nothing was, if so.
func readInserted(rows *sql.Rows) (inserted map[string]bool, seqs map[string]int64, r refusal, err error) {
	defer rows.Close()
	inserted, seqs = map[string]bool{}, map[string]int64{}
	for rows.Next() {
		var kind, id string
		var seq int64
		if err := rows.Scan(&kind, &id, &seq); err != nil {
			return nil, nil, r, fmt.Errorf("postgres: ingest: %w", err)
		}
		switch kind {
		case "e":
			inserted[id] = true
		case "d":
			seqs[id] = seq
		case "k":
			r.keys = append(r.keys, id)
		default:
			r.stale = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, r, fmt.Errorf("postgres: ingest: %w", err)
	}
	return inserted, seqs, r, nil
}

// keyHashes lists the API keys that published the items, once each.
func keyHashes(items []*store.IngestItem) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, it := range items {
		if h := it.KeyHash; h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// lostRaces handles events whose idempotency key another transaction
// stored after this one looked (two nodes ingesting the same key at
// once): it does not fail the batch, the event becomes a duplicate of the
// other one (as would have happened had the other committed first), and
// so do the items of the batch that repeated it.
func lostRaces(ctx context.Context, q querier, b *store.IngestBatch, items []*store.IngestItem, inserted map[string]bool) error {
	winner := map[string]string{} // lost event id -> stored event id
	for _, it := range items {
		ev := it.Event
		if inserted[ev.ID] {
			continue
		}
		var id string
		err := q.QueryRowContext(ctx, `SELECT id FROM events WHERE tenant_id = $1 AND idempotency_key = $2`,
			ev.TenantID, ev.IdempotencyKey).Scan(&id)
		if err != nil {
			return fmt.Errorf("postgres: ingest event %s: idempotency conflict: %w", ev.ID, err)
		}
		winner[ev.ID] = id
		it.Duplicate, ev.ID = true, id
	}
	for _, it := range b.Items {
		if id, ok := winner[it.Event.ID]; ok && it.Duplicate {
			it.Event.ID = id
		}
	}
	return nil
}

// eventRows are the events of a batch as column arrays for unnest.
type eventRows struct {
	ids, tenants, types, keys, okeys []string
	payloads                         [][]byte
	created                          []int64
}

func newEventRows(items []*store.IngestItem) (*eventRows, error) {
	n := len(items)
	r := &eventRows{ids: make([]string, n), tenants: make([]string, n), types: make([]string, n), keys: make([]string, n),
		okeys: make([]string, n), payloads: make([][]byte, n), created: make([]int64, n)}
	for i, it := range items {
		ev := it.Event
		if ev.Payload == nil {
			return nil, fmt.Errorf("postgres: ingest event %s: no payload", ev.ID)
		}
		r.ids[i], r.tenants[i], r.types[i], r.keys[i], r.okeys[i] = ev.ID, ev.TenantID, ev.Type, ev.IdempotencyKey, ev.OrderingKey
		r.payloads[i], r.created[i] = ev.Payload, sqlstore.MS(ev.CreatedAt)
	}
	return r, nil
}

// targetIDs lists the endpoints the items target, once each.
func targetIDs(items []*store.IngestItem) []string {
	ids := []string{}
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

// deliveryRows are the deliveries of a batch, one per target, as column
// arrays for unnest.
type deliveryRows struct {
	ids, tenants, eps, events, types, keys []string
	take                                   []bool
	out                                    []pendingJob
}

type pendingJob struct {
	item *store.IngestItem
	job  *store.Job
}

func newDeliveryRows(b *store.IngestBatch, items []*store.IngestItem) *deliveryRows {
	rs := &deliveryRows{ids: []string{}, tenants: []string{}, eps: []string{}, events: []string{}, types: []string{},
		keys: []string{}, take: []bool{}}
	for _, it := range items {
		ev := it.Event
		for _, target := range it.Targets {
			ep := target.Endpoint
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
