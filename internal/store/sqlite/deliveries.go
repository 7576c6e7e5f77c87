package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// ListDeliveries lists an endpoint's deliveries, newest first.
func (db *DB) ListDeliveries(ctx context.Context, tenantID string, f store.DeliveryFilter) ([]*slotwire.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE tenant_id = ? AND endpoint_id = ?`
	args := []any{tenantID, f.EndpointID}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.EventID != "" {
		q += ` AND event_id = ?`
		args = append(args, f.EventID)
	}
	if f.Before != "" {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limitOf(f.Limit))
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list deliveries: %w", err)
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
	return out, rows.Err()
}

// GetDelivery returns one of a tenant's deliveries.
func (db *DB) GetDelivery(ctx context.Context, tenantID, id string) (*slotwire.Delivery, error) {
	return scanDelivery(db.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// ListAttempts returns a delivery's attempts, oldest first.
func (db *DB) ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*slotwire.Attempt, error) {
	if _, err := db.GetDelivery(ctx, tenantID, deliveryID); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT number, at, status_code, duration_ms, response_body, error
		FROM attempts WHERE delivery_id = ? ORDER BY at, number`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list attempts: %w", err)
	}
	defer rows.Close()
	out := []*slotwire.Attempt{}
	for rows.Next() {
		a := slotwire.Attempt{DeliveryID: deliveryID}
		var at int64
		if err := rows.Scan(&a.Number, &at, &a.StatusCode, &a.DurationMS, &a.ResponseBody, &a.Error); err != nil {
			return nil, fmt.Errorf("sqlite: list attempts: %w", err)
		}
		a.At = fromMS(at)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// DeliveryPayload returns the body sent for a delivery.
func (db *DB) DeliveryPayload(ctx context.Context, tenantID, id string) ([]byte, error) {
	var p []byte
	err := db.r.QueryRowContext(ctx, `SELECT e.payload FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = ? AND d.id = ?`, tenantID, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery: %w", slotwire.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: delivery payload: %w", err)
	}
	return p, nil
}

// Replay queues the delivery's event to its endpoint again.
func (db *DB) Replay(ctx context.Context, tenantID, id, newID string, now time.Time) (*slotwire.Delivery, error) {
	var out *slotwire.Delivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		orig, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE tenant_id = ? AND id = ?`, tenantID, id))
		if err != nil {
			return err
		}
		n := ms(now)
		out, err = scanDelivery(tx.QueryRowContext(ctx, `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
			next_attempt_at, replay_of, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING `+deliveryCols,
			newID, orig.TenantID, orig.EndpointID, orig.EventID, orig.EventType, n, orig.ID, n, n))
		return err
	})
	return out, err
}

// DueEndpoints lists enabled endpoints with pending deliveries.
func (db *DB) DueEndpoints(ctx context.Context) ([]store.DueEndpoint, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, nx FROM (
		SELECT e.id, (SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS nx
		FROM endpoints e WHERE e.enabled = 1) WHERE nx IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due endpoints: %w", err)
	}
	defer rows.Close()
	var out []store.DueEndpoint
	for rows.Next() {
		var d store.DueEndpoint
		var nx int64
		if err := rows.Scan(&d.EndpointID, &nx); err != nil {
			return nil, fmt.Errorf("sqlite: due endpoints: %w", err)
		}
		d.NextAt = fromMS(nx)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Claim leases due deliveries of one endpoint. A read on the reader pool
// first checks that there is something to claim, so an empty claim never
// takes the write lock.
func (db *DB) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Job, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ? LIMIT 1`,
		r.EndpointID, ms(r.Now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	var jobs []*store.Job
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		ep, err := scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE id = ? AND enabled = 1`, r.EndpointID))
		if errors.Is(err, slotwire.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := ms(r.Now)
		var pick string
		var args []any
		if r.FIFO || ep.Ordering == slotwire.OrderingFIFO {
			var seq, next int64
			var status string
			err := tx.QueryRowContext(ctx, `SELECT seq, status, next_attempt_at FROM deliveries
				WHERE endpoint_id = ? AND status IN ('pending', 'inflight') ORDER BY seq LIMIT 1`, r.EndpointID).Scan(&seq, &status, &next)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("sqlite: claim: %w", err)
			}
			if status != slotwire.StatusPending || next > now {
				return nil
			}
			pick, args = `seq = ?`, []any{seq}
		} else {
			pick = `seq IN (SELECT seq FROM deliveries WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ?
				ORDER BY next_attempt_at, seq LIMIT ?)`
			args = []any{r.EndpointID, now, r.Limit}
		}
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET status = 'inflight', lease_owner = ?, lease_until = ?, updated_at = ?
			WHERE `+pick+` RETURNING `+deliveryCols, append([]any{r.Owner, ms(r.LeaseUntil), now}, args...)...)
		if err != nil {
			return fmt.Errorf("sqlite: claim: %w", err)
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, &store.Job{Delivery: *d, Endpoint: *ep})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: claim: %w", err)
		}
		for _, j := range jobs {
			if err := tx.QueryRowContext(ctx, `SELECT payload FROM events WHERE id = ?`, j.Delivery.EventID).Scan(&j.Payload); err != nil {
				return fmt.Errorf("sqlite: claim payload: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortJobs(jobs)
	return jobs, nil
}

func sortJobs(jobs []*store.Job) {
	// RETURNING order is unspecified; keep queue order.
	for i := 1; i < len(jobs); i++ {
		for j := i; j > 0 && jobs[j].Delivery.Seq < jobs[j-1].Delivery.Seq; j-- {
			jobs[j], jobs[j-1] = jobs[j-1], jobs[j]
		}
	}
}

// Complete records attempt outcomes and the endpoint state they imply.
func (db *DB) Complete(ctx context.Context, outcomes []store.Outcome, now time.Time, disableAfter time.Duration) ([]store.EndpointTransition, error) {
	var trans []store.EndpointTransition
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		trans = trans[:0]
		insAttempt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO attempts (delivery_id, number, at, status_code, duration_ms, response_body, error)
			SELECT id, attempts + 1, ?, ?, ?, ?, ? FROM deliveries WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("sqlite: complete: %w", err)
		}
		defer insAttempt.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
			lease_owner = NULL, lease_until = NULL, last_status_code = ?, last_error = ?, updated_at = ?
			WHERE id = ? AND status = 'inflight' AND lease_owner = ?`)
		if err != nil {
			return fmt.Errorf("sqlite: complete: %w", err)
		}
		defer upd.Close()
		n := ms(now)
		for i := range outcomes {
			o := &outcomes[i]
			a := &o.Attempt
			if _, err := insAttempt.ExecContext(ctx, ms(a.At), a.StatusCode, a.DurationMS, a.ResponseBody, a.Error, o.DeliveryID); err != nil {
				return fmt.Errorf("sqlite: complete attempt: %w", err)
			}
			var next any
			if o.Status == slotwire.StatusPending {
				next = ms(o.NextAttemptAt)
			}
			if _, err := upd.ExecContext(ctx, o.Status, next, a.StatusCode, a.Error, n, o.DeliveryID, o.Owner); err != nil {
				return fmt.Errorf("sqlite: complete delivery: %w", err)
			}
		}
		failing, err := failingEndpoints(ctx, tx)
		if err != nil {
			return err
		}
		for _, h := range store.EndpointHealth(outcomes) {
			if h.Succeeded && h.FailingSince.IsZero() && h.DisableReason == "" && !failing[h.EndpointID] {
				continue // healthy and staying so: nothing to write
			}
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

// failingEndpoints lists endpoints in a run of failures (few, and indexed).
func failingEndpoints(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM endpoints WHERE failing_since IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: failing endpoints: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: failing endpoints: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

func applyHealth(ctx context.Context, tx *sql.Tx, h store.Health, now int64, disableAfter time.Duration) ([]store.EndpointTransition, error) {
	var out []store.EndpointTransition
	if h.Succeeded {
		var tenant string
		err := tx.QueryRowContext(ctx, `UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL RETURNING tenant_id`,
			h.EndpointID).Scan(&tenant)
		if err == nil {
			out = append(out, store.EndpointTransition{EndpointID: h.EndpointID, TenantID: tenant, Kind: store.TransitionRecovered, At: fromMS(now)})
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlite: endpoint health: %w", err)
		}
	}
	if !h.FailingSince.IsZero() {
		if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL`,
			ms(h.FailingSince), h.EndpointID); err != nil {
			return nil, fmt.Errorf("sqlite: endpoint health: %w", err)
		}
	}
	reason := h.DisableReason
	cond := `enabled = 1`
	args := []any{}
	if reason == "" && !h.FailingSince.IsZero() && disableAfter > 0 {
		reason = fmt.Sprintf("every attempt failed for %s", disableAfter)
		cond += ` AND failing_since <= ?`
		args = append(args, now-disableAfter.Milliseconds())
	} else if reason == "" {
		return out, nil
	}
	var tenant string
	err := tx.QueryRowContext(ctx, `UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND `+cond+` RETURNING tenant_id`,
		append([]any{reason, now, h.EndpointID}, args...)...).Scan(&tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: disable endpoint: %w", err)
	}
	return append(out, store.EndpointTransition{EndpointID: h.EndpointID, TenantID: tenant, Kind: store.TransitionDisabled, Reason: reason, At: fromMS(now)}), nil
}

// Release returns an owner's leases to pending.
func (db *DB) Release(ctx context.Context, owner string, ids []string, now time.Time) (int, error) {
	q := `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?
		WHERE status = 'inflight' AND lease_owner = ?`
	args := []any{ms(now), ms(now), owner}
	if len(ids) > 0 {
		q += ` AND id IN (?` + strings.Repeat(`,?`, len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	res, err := db.w.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: release: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReclaimExpired frees leases that ran out.
func (db *DB) ReclaimExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = ?
		WHERE status IN ('pending', 'inflight') AND status = 'inflight' AND lease_until < ?`, /* the IN lets SQLite use deliveries_open */ ms(now), ms(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: reclaim: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
