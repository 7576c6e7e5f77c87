package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// claimSQL leases the deliveries picked by the WHERE clause filled in
// (placeholders from $5 on) and returns them with their payload, in queue
// order.
const claimSQL = `WITH c AS (
		UPDATE deliveries SET status = 'inflight', lease_owner = $1, lease_until = $2, updated_at = $3
		WHERE %s
		RETURNING ` + sqlstore.DeliveryCols + `)
	SELECT c.*, e.payload FROM c JOIN events e ON e.id = c.event_id ORDER BY c.seq`

// claimAnySQL picks up to $6 due deliveries of endpoint $5, skipping rows
// other nodes are claiming right now, so concurrent claims never wait for
// nor return the same delivery.
var claimAnySQL = fmt.Sprintf(claimSQL, `seq IN (SELECT seq FROM deliveries
			WHERE endpoint_id = $5 AND status = 'pending' AND next_attempt_at <= $4
			ORDER BY next_attempt_at, seq LIMIT $6 FOR UPDATE SKIP LOCKED)`)

// claimKeyedSQL picks up to $6 claimable deliveries of key-ordered
// endpoint $5: at most one per ordering key (sqlstore.KeyedDue). A row
// another node is claiming is skipped, and the rows after it with the same
// key wait for it, so two nodes never send one key at once.
var claimKeyedSQL = fmt.Sprintf(claimSQL, `seq IN (SELECT d.seq FROM deliveries d
			WHERE `+sqlstore.KeyedDue("$5", "$4")+`
			ORDER BY d.next_attempt_at, d.seq LIMIT $6 FOR UPDATE OF d SKIP LOCKED)`)

// claimHeadSQL leases delivery $5 if it is still pending.
var claimHeadSQL = fmt.Sprintf(claimSQL, `seq = $5 AND status = 'pending' AND next_attempt_at <= $4`)

// Claim leases due deliveries of one endpoint. An endpoint whose ordering
// is "fifo" is claimed as if r.FIFO were set; one ordered by key gets at
// most one delivery per key.
func (db *DB) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Job, error) {
	if !r.FIFO {
		ep, err := db.ScanEndpoint(db.sql.QueryRowContext(ctx, `SELECT `+sqlstore.EndpointCols+` FROM endpoints WHERE id = $1 AND enabled`, r.EndpointID))
		if errors.Is(err, slotwire.ErrNotFound) || (err == nil && ep.PendingVerification) {
			return nil, nil // gone, disabled, or not verified yet: nothing to send
		}
		if err != nil {
			return nil, err
		}
		if ep.Ordering != slotwire.OrderingFIFO {
			var limit any = r.Limit
			if r.Limit < 0 {
				limit = nil // as in SQLite, a negative limit is no limit
			}
			query := claimAnySQL
			if ep.Ordering == slotwire.OrderingKey {
				query = claimKeyedSQL
			}
			return db.claimRows(ctx, db.sql, ep, query, r, r.EndpointID, limit)
		}
	}
	var jobs []*store.Job
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		jobs, err = db.claimHead(ctx, tx, r)
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
func (db *DB) claimHead(ctx context.Context, tx *sql.Tx, r store.ClaimRequest) ([]*store.Job, error) {
	ep, err := db.ScanEndpoint(tx.QueryRowContext(ctx, `SELECT `+sqlstore.EndpointCols+` FROM endpoints WHERE id = $1 AND enabled FOR NO KEY UPDATE`, r.EndpointID))
	if errors.Is(err, slotwire.ErrNotFound) || (err == nil && ep.PendingVerification) {
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
	if status != slotwire.StatusPending || !next.Valid || next.Int64 > sqlstore.MS(r.Now) {
		return nil, nil
	}
	return db.claimRows(ctx, tx, ep, claimHeadSQL, r, seq)
}

func (db *DB) claimRows(ctx context.Context, q sqlstore.Querier, ep *slotwire.Endpoint, query string, r store.ClaimRequest, pick ...any) ([]*store.Job, error) {
	rows, err := q.QueryContext(ctx, query, append([]any{r.Owner, sqlstore.MS(r.LeaseUntil), sqlstore.MS(r.Now), sqlstore.MS(r.Now)}, pick...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	defer rows.Close()
	var jobs []*store.Job
	for rows.Next() {
		j := &store.Job{Endpoint: *ep}
		d, err := db.ScanDelivery(rows, &j.Payload)
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
