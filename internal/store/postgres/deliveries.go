package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// ListDeliveries lists an endpoint's deliveries, newest first.
func (db *DB) ListDeliveries(ctx context.Context, tenantID string, f store.DeliveryFilter) ([]*slotwire.Delivery, error) {
	var a args
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE tenant_id = ` + a.add(tenantID) + ` AND endpoint_id = ` + a.add(f.EndpointID)
	if f.Status != "" {
		q += ` AND status = ` + a.add(f.Status)
	}
	if f.EventID != "" {
		q += ` AND event_id = ` + a.add(f.EventID)
	}
	if f.Before != "" {
		q += ` AND id < ` + a.add(f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ` + a.add(limitOf(f.Limit))
	rows, err := db.sql.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	defer rows.Close()
	out := []*slotwire.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	return out, nil
}

// GetDelivery returns one of a tenant's deliveries.
func (db *DB) GetDelivery(ctx context.Context, tenantID, id string) (*slotwire.Delivery, error) {
	return scanDelivery(db.sql.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// ListAttempts returns a delivery's attempts, oldest first.
func (db *DB) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*slotwire.Attempt, error) {
	if _, err := db.GetDelivery(ctx, tenantID, deliveryID); err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT number, at, status_code, duration_ms, response_body, error
		FROM attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list attempts: %w", err)
	}
	defer rows.Close()
	out := []*slotwire.Attempt{}
	for rows.Next() {
		a := slotwire.Attempt{DeliveryID: deliveryID}
		var at int64
		if err := rows.Scan(&a.Number, &at, &a.StatusCode, &a.DurationMS, &a.ResponseBody, &a.Error); err != nil {
			return nil, fmt.Errorf("postgres: list attempts: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list attempts: %w", err)
	}
	return out, nil
}

// DeliveryPayload returns the body sent for a delivery.
func (db *DB) DeliveryPayload(ctx context.Context, tenantID, id string) ([]byte, error) {
	var p []byte
	err := db.sql.QueryRowContext(ctx, `SELECT e.payload FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = $1 AND d.id = $2`, tenantID, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery: %w", slotwire.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery payload: %w", err)
	}
	return p, nil
}

// Replay queues the delivery's event to its endpoint again, in one
// statement: no row copied means the tenant has no such delivery.
func (db *DB) Replay(ctx context.Context, tenantID, id, newID string, now time.Time) (*slotwire.Delivery, error) {
	n := ms(now)
	return scanDelivery(db.sql.QueryRowContext(ctx, `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, replay_of, created_at, updated_at)
		SELECT $1, tenant_id, endpoint_id, event_id, event_type, 'pending', $2::bigint, id, $2::bigint, $2::bigint
		FROM deliveries WHERE tenant_id = $3 AND id = $4
		RETURNING `+deliveryCols, newID, n, tenantID, id))
}

// DueEndpoints lists enabled endpoints with pending deliveries.
func (db *DB) DueEndpoints(ctx context.Context) ([]store.DueEndpoint, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT e.id, d.nx FROM endpoints e
		CROSS JOIN LATERAL (SELECT MIN(next_attempt_at) AS nx FROM deliveries WHERE endpoint_id = e.id AND status = 'pending') d
		WHERE e.enabled AND d.nx IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("postgres: due endpoints: %w", err)
	}
	defer rows.Close()
	var out []store.DueEndpoint
	for rows.Next() {
		var d store.DueEndpoint
		var nx int64
		if err := rows.Scan(&d.EndpointID, &nx); err != nil {
			return nil, fmt.Errorf("postgres: due endpoints: %w", err)
		}
		d.NextAt = fromMS(nx)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: due endpoints: %w", err)
	}
	return out, nil
}

// claimSQL leases the deliveries picked by the WHERE clause filled in
// (placeholders from $5 on) and returns them with their payload, in queue
// order.
const claimSQL = `WITH c AS (
		UPDATE deliveries SET status = 'inflight', lease_owner = $1, lease_until = $2, updated_at = $3
		WHERE %s
		RETURNING ` + deliveryCols + `)
	SELECT c.*, e.payload FROM c JOIN events e ON e.id = c.event_id ORDER BY c.seq`

// claimAnySQL picks up to $6 due deliveries of endpoint $5, skipping rows
// other nodes are claiming right now, so concurrent claims never wait for
// nor return the same delivery.
var claimAnySQL = fmt.Sprintf(claimSQL, `seq IN (SELECT seq FROM deliveries
			WHERE endpoint_id = $5 AND status = 'pending' AND next_attempt_at <= $4
			ORDER BY next_attempt_at, seq LIMIT $6 FOR UPDATE SKIP LOCKED)`)

// claimHeadSQL leases delivery $5 if it is still pending.
var claimHeadSQL = fmt.Sprintf(claimSQL, `seq = $5 AND status = 'pending' AND next_attempt_at <= $4`)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Claim leases due deliveries of one endpoint. An endpoint whose ordering
// is "fifo" is claimed as if r.FIFO were set.
func (db *DB) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Job, error) {
	if !r.FIFO {
		ep, err := scanEndpoint(db.sql.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE id = $1 AND enabled`, r.EndpointID))
		if errors.Is(err, slotwire.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if ep.Ordering != slotwire.OrderingFIFO {
			var limit any = r.Limit
			if r.Limit < 0 {
				limit = nil // as in SQLite, a negative limit is no limit
			}
			return claimRows(ctx, db.sql, ep, claimAnySQL, r, r.EndpointID, limit)
		}
	}
	var jobs []*store.Job
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		jobs, err = claimHead(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// claimHead leases the endpoint's oldest unfinished delivery if it is
// pending and due. Locking the endpoint row first serialises FIFO claims
// of one endpoint across nodes, so each sees the head the previous one
// left. The lock is FOR NO KEY UPDATE: it excludes other FIFO claims but
// not the key-share locks of concurrent ingests inserting deliveries.
func claimHead(ctx context.Context, tx *sql.Tx, r store.ClaimRequest) ([]*store.Job, error) {
	ep, err := scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE id = $1 AND enabled FOR NO KEY UPDATE`, r.EndpointID))
	if errors.Is(err, slotwire.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var seq int64
	var status string
	var next sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT seq, status, next_attempt_at FROM deliveries
		WHERE endpoint_id = $1 AND status IN ('pending', 'inflight') ORDER BY seq LIMIT 1`, r.EndpointID).Scan(&seq, &status, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	if status != slotwire.StatusPending || !next.Valid || next.Int64 > ms(r.Now) {
		return nil, nil
	}
	return claimRows(ctx, tx, ep, claimHeadSQL, r, seq)
}

func claimRows(ctx context.Context, q querier, ep *slotwire.Endpoint, query string, r store.ClaimRequest, pick ...any) ([]*store.Job, error) {
	rows, err := q.QueryContext(ctx, query, append([]any{r.Owner, ms(r.LeaseUntil), ms(r.Now), ms(r.Now)}, pick...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	defer rows.Close()
	var jobs []*store.Job
	for rows.Next() {
		j := &store.Job{Endpoint: *ep}
		d, err := scanDelivery(rows, &j.Payload)
		if err != nil {
			return nil, err
		}
		j.Delivery = *d
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	return jobs, nil
}

// Complete records attempt outcomes and the endpoint state they imply.
func (db *DB) Complete(ctx context.Context, outcomes []store.Outcome, now time.Time, disableAfter time.Duration) ([]store.EndpointTransition, error) {
	var trans []store.EndpointTransition
	n := ms(now)
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		trans = trans[:0]
		for _, part := range distinctRuns(outcomes) {
			if err := completeRun(ctx, tx, part, n); err != nil {
				return err
			}
		}
		for _, h := range store.EndpointHealth(outcomes) {
			t, err := applyHealth(ctx, tx, h, n, disableAfter)
			if err != nil {
				return err
			}
			trans = append(trans, t...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return trans, nil
}

// distinctRuns cuts outcomes into consecutive runs in which no delivery
// appears twice, so that each run can be applied with one statement per
// table and still number repeated attempts as one-by-one would.
func distinctRuns(outcomes []store.Outcome) [][]store.Outcome {
	var out [][]store.Outcome
	start := 0
	seen := map[string]bool{}
	for i, o := range outcomes {
		if seen[o.DeliveryID] {
			out = append(out, outcomes[start:i])
			start = i
			clear(seen)
		}
		seen[o.DeliveryID] = true
	}
	if start < len(outcomes) {
		out = append(out, outcomes[start:])
	}
	return out
}

// completeRun records the attempts, then moves the deliveries still leased
// to the outcome's owner to their new status. A stale outcome (the lease
// was lost) records its attempt and changes nothing else.
func completeRun(ctx context.Context, tx *sql.Tx, outcomes []store.Outcome, now int64) error {
	k := len(outcomes)
	ids, owners, statuses := make([]string, k), make([]string, k), make([]string, k)
	bodies, errs := make([]string, k), make([]string, k)
	at, codes, durations, next := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
	for i := range outcomes {
		o := &outcomes[i]
		ids[i], owners[i], statuses[i] = o.DeliveryID, o.Owner, o.Status
		bodies[i], errs[i] = o.Attempt.ResponseBody, o.Attempt.Error
		at[i], codes[i], durations[i] = ms(o.Attempt.At), int64(o.Attempt.StatusCode), o.Attempt.DurationMS
		if o.Status == slotwire.StatusPending {
			next[i] = ms(o.NextAttemptAt)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (delivery_id, number, at, status_code, duration_ms, response_body, error)
		SELECT d.id, d.attempts + 1, o.at, o.code, o.duration, o.body, o.err
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[]) WITH ORDINALITY
			AS o(id, at, code, duration, body, err, ord)
		JOIN deliveries d ON d.id = o.id
		ORDER BY o.ord`, ids, at, codes, durations, bodies, errs); err != nil {
		return fmt.Errorf("postgres: complete attempt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries d SET status = o.status, attempts = d.attempts + 1,
			next_attempt_at = CASE WHEN o.status = 'pending' THEN o.next END,
			lease_owner = NULL, lease_until = NULL, last_status_code = o.code, last_error = o.err, updated_at = $7
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS o(id, owner, status, next, code, err)
		WHERE d.id = o.id AND d.status = 'inflight' AND d.lease_owner = o.owner`,
		ids, owners, statuses, next, codes, errs, now); err != nil {
		return fmt.Errorf("postgres: complete delivery: %w", err)
	}
	return nil
}

// applyHealth is sqlite's applyHealth: clear failing_since on success, set
// it (if unset) on failure, then disable when asked or when failing too
// long.
func applyHealth(ctx context.Context, tx *sql.Tx, h store.Health, now int64, disableAfter time.Duration) ([]store.EndpointTransition, error) {
	var out []store.EndpointTransition
	if h.Succeeded {
		var tenant string
		err := tx.QueryRowContext(ctx, `UPDATE endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL RETURNING tenant_id`,
			h.EndpointID).Scan(&tenant)
		if err == nil {
			out = append(out, store.EndpointTransition{EndpointID: h.EndpointID, TenantID: tenant, Kind: store.TransitionRecovered, At: fromMS(now)})
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("postgres: endpoint health: %w", err)
		}
	}
	if !h.FailingSince.IsZero() {
		if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL`,
			ms(h.FailingSince), h.EndpointID); err != nil {
			return nil, fmt.Errorf("postgres: endpoint health: %w", err)
		}
	}
	reason := h.DisableReason
	a := args{}
	q := `UPDATE endpoints SET enabled = FALSE, disabled_reason = ` + a.add(reason) + `, updated_at = ` + a.add(now) +
		` WHERE id = ` + a.add(h.EndpointID) + ` AND enabled`
	if reason == "" && !h.FailingSince.IsZero() && disableAfter > 0 {
		reason = fmt.Sprintf("every attempt failed for %s", disableAfter)
		a[0] = reason
		q += ` AND failing_since <= ` + a.add(now-disableAfter.Milliseconds())
	} else if reason == "" {
		return out, nil
	}
	var tenant string
	err := tx.QueryRowContext(ctx, q+` RETURNING tenant_id`, a...).Scan(&tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: disable endpoint: %w", err)
	}
	return append(out, store.EndpointTransition{EndpointID: h.EndpointID, TenantID: tenant, Kind: store.TransitionDisabled, Reason: reason, At: fromMS(now)}), nil
}

// Release returns an owner's leases to pending.
func (db *DB) Release(ctx context.Context, owner string, ids []string, now time.Time) (int, error) {
	var a args
	q := `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, next_attempt_at = ` + a.add(ms(now)) +
		`, updated_at = ` + a.add(ms(now)) + ` WHERE status = 'inflight' AND lease_owner = ` + a.add(owner)
	if len(ids) > 0 {
		q += ` AND id = ANY(` + a.add(ids) + `::text[])`
	}
	return db.execCount(ctx, "release", q, a...)
}

// ReclaimExpired frees leases that ran out.
func (db *DB) ReclaimExpired(ctx context.Context, now time.Time) (int, error) {
	return db.execCount(ctx, "reclaim", `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = $1
		WHERE status = 'inflight' AND lease_until < $2`, ms(now), ms(now))
}

// execCount runs an idempotent update, retried on deadlock, and returns
// the number of rows it changed.
func (db *DB) execCount(ctx context.Context, what, q string, a ...any) (int, error) {
	var n int64
	err := db.retry(ctx, func() error {
		res, err := db.sql.ExecContext(ctx, q, a...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return int(n), nil
}
