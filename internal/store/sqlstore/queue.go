package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// DueEndpoints lists enabled endpoints with pending deliveries and when
// the earliest is due.
func (db *DB) DueEndpoints(ctx context.Context) ([]store.DueEndpoint, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT id, nx FROM (
		SELECT e.id, (SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS nx
		FROM endpoints e WHERE e.enabled = `+db.D.True()+` AND (NOT e.verify OR e.verified_url = e.url)) due WHERE nx IS NOT NULL`)
	if err != nil {
		return nil, db.errf("due endpoints", err)
	}
	out, err := collect(rows, func(s Scanner) (store.DueEndpoint, error) {
		var d store.DueEndpoint
		var nx int64
		err := s.Scan(&d.EndpointID, &nx)
		d.NextAt = FromMS(nx)
		return d, err
	})
	if err != nil {
		return nil, db.errf("due endpoints", err)
	}
	return out, nil
}

// Release returns an owner's leases (all, or those of ids) to pending,
// due now.
func (db *DB) Release(ctx context.Context, owner string, ids []string, now time.Time) (int, error) {
	q := `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, updated_at = ?
		WHERE status = 'inflight' AND lease_owner = ?`
	args := []any{MS(now), MS(now), owner}
	if len(ids) > 0 {
		q += ` AND id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	return db.execCount(ctx, "release", q, args...)
}

// ReclaimExpired returns to pending every inflight delivery whose lease
// ended before now.
func (db *DB) ReclaimExpired(ctx context.Context, now time.Time) (int, error) {
	// status IN (…) lets SQLite use the partial index on open deliveries.
	return db.execCount(ctx, "reclaim", `UPDATE deliveries SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = ?
		WHERE status IN ('pending', 'inflight') AND status = 'inflight' AND lease_until < ?`, MS(now), MS(now))
}

// KeyedDue is the condition, on deliveries aliased d, that picks the
// claimable deliveries of a key-ordered endpoint: due, pending, and either
// without an ordering key or the first unfinished delivery of their key
// with no delivery of that key in flight. A delivery waiting for a retry
// is unfinished, so it holds its key until it succeeds or fails for good.
// ep and now are the placeholders of the endpoint id and the time.
func KeyedDue(ep, now string) string {
	return `d.endpoint_id = ` + ep + ` AND d.status = 'pending' AND d.next_attempt_at <= ` + now + `
		AND (d.ordering_key = '' OR NOT EXISTS (SELECT 1 FROM deliveries p
			WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key AND p.ordering_key <> ''
			AND p.status IN ('pending', 'inflight') AND (p.seq < d.seq OR p.status = 'inflight')))`
}

// PendingCount counts an endpoint's pending deliveries, up to limit.
func (db *DB) PendingCount(ctx context.Context, endpointID string, limit int) (int, error) {
	var n int
	err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM (SELECT 1 FROM deliveries
		WHERE endpoint_id = ? AND status = 'pending' LIMIT ?) p`), endpointID, limit).Scan(&n)
	if err != nil {
		return 0, db.errf("pending count", err)
	}
	return n, nil
}
