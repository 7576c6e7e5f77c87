package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"
	"strconv"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Ingest stores a batch of events and their deliveries in one transaction.
func (db *DB) Ingest(ctx context.Context, b *store.IngestBatch) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return ingestTx(ctx, tx, b) })
}

type tenantKey struct{ tenant, key string }

type keyedEvent struct {
	id      string
	created int64
}

// ingestTx stores the batch with a fixed number of statements, whatever its
// size: look up idempotency keys, free expired ones, insert the events,
// load the tenants' endpoints, insert the deliveries.
func ingestTx(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error {
	now := ms(b.Now)

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

	fresh, err := insertEvents(ctx, tx, b, fresh)
	if err != nil {
		return err
	}
	return insertDeliveries(ctx, tx, b, fresh)
}

// insertEvents inserts the events and returns the items actually stored.
// An idempotency key that another transaction stored after this one looked
// (two nodes ingesting the same key at once) does not fail the batch: the
// event becomes a duplicate of the other one, as it would have had the
// other transaction committed first.
func insertEvents(ctx context.Context, tx *sql.Tx, b *store.IngestBatch, items []*store.IngestItem) ([]*store.IngestItem, error) {
	n := len(items)
	ids, tenants, types, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads, created := make([][]byte, n), make([]int64, n)
	for i, it := range items {
		ev := it.Event
		ids[i], tenants[i], types[i], keys[i] = ev.ID, ev.TenantID, ev.Type, ev.IdempotencyKey
		payloads[i], created[i] = ev.Payload, ms(ev.CreatedAt)
		if payloads[i] == nil {
			return nil, fmt.Errorf("postgres: ingest event %s: no payload", ev.ID)
		}
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO events (id, tenant_id, type, idempotency_key, payload, created_at)
		SELECT id, tenant_id, type, NULLIF(idempotency_key, ''), payload, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bigint[])
			AS x(id, tenant_id, type, idempotency_key, payload, created_at)
		ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id`, ids, tenants, types, keys, payloads, created)
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
func insertDeliveries(ctx context.Context, tx *sql.Tx, b *store.IngestBatch, items []*store.IngestItem) error {
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
	if len(ids) == 0 {
		return nil
	}
	endpoints, err := liveEndpoints(ctx, tx, ids)
	if err != nil {
		return err
	}
	type pending struct {
		item *store.IngestItem
		job  *store.Job
	}
	ids = nil
	var (
		dTenants, eps, events, types []string
		take                         []bool
		out                          []pending
	)
	for _, it := range items {
		ev := it.Event
		for _, target := range it.Targets {
			ep, ok := endpoints[target.Endpoint.ID]
			if !ok {
				continue // deleted or disabled since the fan-out
			}
			t := target.Leased
			d := slotwire.Delivery{
				ID: slotwire.NewID(slotwire.PrefixDelivery), TenantID: ev.TenantID, EndpointID: ep.ID,
				EventID: ev.ID, EventType: ev.Type, Status: slotwire.StatusPending,
				CreatedAt: b.Now, UpdatedAt: b.Now,
			}
			if t {
				d.Status = slotwire.StatusInflight
			}
			ids, dTenants, eps = append(ids, d.ID), append(dTenants, d.TenantID), append(eps, d.EndpointID)
			events, types, take = append(events, d.EventID), append(types, d.EventType), append(take, t)
			out = append(out, pending{it, &store.Job{Delivery: d, Endpoint: *ep, Payload: ev.Payload}})
		}
	}
	if len(ids) == 0 {
		return nil
	}
	now := ms(b.Now)
	// ORDER BY ordinality makes seq follow batch order, as in sqlite.
	rows, err := tx.QueryContext(ctx, `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, lease_owner, lease_until, created_at, updated_at)
		SELECT id, tenant_id, endpoint_id, event_id, event_type, CASE WHEN take THEN 'inflight' ELSE 'pending' END,
			$7::bigint, CASE WHEN take THEN $8::text END, CASE WHEN take THEN $9::bigint END, $7::bigint, $7::bigint
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[]) WITH ORDINALITY
			AS x(id, tenant_id, endpoint_id, event_id, event_type, take, ord)
		ORDER BY ord
		RETURNING id, seq`, ids, dTenants, eps, events, types, take, now, b.Owner, ms(b.LeaseUntil))
	if err != nil {
		return fmt.Errorf("postgres: ingest delivery: %w", err)
	}
	seqs := make(map[string]int64, len(ids))
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: ingest delivery: %w", err)
		}
		seqs[id] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: ingest delivery: %w", err)
	}
	for _, p := range out {
		p.job.Delivery.Seq = seqs[p.job.Delivery.ID]
		p.item.Deliveries++
		if p.job.Delivery.Status == slotwire.StatusInflight {
			p.item.Jobs = append(p.item.Jobs, p.job)
		}
	}
	return nil
}

// liveEndpoints returns those of the endpoints that are still enabled, by
// id. They are locked FOR KEY SHARE so that an endpoint cannot be deleted
// under the deliveries about to reference it (the lock does not block
// updates of the endpoint nor FIFO claims).
func liveEndpoints(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*slotwire.Endpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+endpointCols+` FROM endpoints
		WHERE id = ANY($1::text[]) AND enabled ORDER BY id FOR KEY SHARE`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: ingest: endpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]*slotwire.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: ingest: endpoints: %w", err)
	}
	return out, nil
}

// EnabledEndpoints returns a tenant's enabled endpoints in id order.
func (db *DB) EnabledEndpoints(ctx context.Context, tenantID string) ([]*slotwire.Endpoint, error) {
	return enabledEndpoints(ctx, db.sql, tenantID)
}

func enabledEndpoints(ctx context.Context, q sqlrows.Querier, tenantID string) ([]*slotwire.Endpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND enabled ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("postgres: endpoints of %s: %w", tenantID, err)
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
	err := db.sql.QueryRowContext(ctx, `SELECT id, tenant_id, type, idempotency_key, payload, created_at
		FROM events WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &key, &e.Payload, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event: %w", slotwire.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get event: %w", err)
	}
	e.IdempotencyKey, e.CreatedAt = key.String, fromMS(created)
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		return nil, fmt.Errorf("postgres: event %s payload: %w", id, err)
	}
	e.Data = body.Data
	return &e, nil
}

type dialect struct{}

func (dialect) Name() string           { return "postgres" }
func (dialect) Rebind(q string) string { return Rebind(q) }

// Rebind rewrites '?' placeholders into $1, $2 … in order. A '?' inside a
// single-quoted string literal or a double-quoted identifier is left
// alone. (PostgreSQL's jsonb '?' operators cannot be told apart from
// placeholders; write them as functions, e.g. jsonb_exists.)
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote we are inside of, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			// A doubled quote ('it''s') leaves and re-enters: same result.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Outbox runs fn in a transaction in which emitted events are stored with
// their deliveries.
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

// Capabilities: several nodes may share a PostgreSQL database; they tell
// each other about new work (LISTEN/NOTIFY) and elect one node for
// periodic work (advisory locks).
func (db *DB) Capabilities() store.Capabilities {
	return store.Capabilities{MultiNode: true, Notifier: db, Locker: db}
}
