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

// Claim leases due deliveries of one endpoint. A read on the reader pool
// first checks that there is something to claim, so an empty claim never
// takes the write lock.
func (db *DB) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Job, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ? LIMIT 1`,
		r.EndpointID, sqlstore.MS(r.Now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	var jobs []*store.Job
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		ep, err := db.ScanEndpoint(tx.QueryRowContext(ctx, `SELECT `+sqlstore.EndpointCols+` FROM endpoints WHERE id = ? AND enabled = 1`, r.EndpointID))
		if errors.Is(err, slotwire.ErrNotFound) || (err == nil && ep.PendingVerification) {
			return nil // gone, disabled, or not verified yet: nothing to send
		}
		if err != nil {
			return err
		}
		now := sqlstore.MS(r.Now)
		pick, args, err := claimPick(ctx, tx, ep, r, now)
		if err != nil || pick == "" {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET status = 'inflight', lease_owner = ?, lease_until = ?, updated_at = ?
			WHERE `+pick+` RETURNING `+sqlstore.DeliveryCols, append([]any{r.Owner, sqlstore.MS(r.LeaseUntil), now}, args...)...)
		if err != nil {
			return fmt.Errorf("sqlite: claim: %w", err)
		}
		for rows.Next() {
			d, err := db.ScanDelivery(rows)
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

// claimPick is the WHERE clause (and its arguments) choosing the
// deliveries to lease; empty when there is nothing to claim.
func claimPick(ctx context.Context, tx *sql.Tx, ep *slotwire.Endpoint, r store.ClaimRequest, now int64) (string, []any, error) {
	switch {
	case r.FIFO || ep.Ordering == slotwire.OrderingFIFO:
		var seq, next int64
		var status string
		err := tx.QueryRowContext(ctx, `SELECT seq, status, next_attempt_at FROM deliveries
			WHERE endpoint_id = ? AND status IN ('pending', 'inflight') ORDER BY seq LIMIT 1`, r.EndpointID).Scan(&seq, &status, &next)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("sqlite: claim: %w", err)
		}
		if status != slotwire.StatusPending || next > now {
			return "", nil, nil
		}
		return `seq = ?`, []any{seq}, nil
	case ep.Ordering == slotwire.OrderingKey:
		return `seq IN (SELECT d.seq FROM deliveries d WHERE ` + sqlstore.KeyedDue("?", "?") + `
			ORDER BY d.next_attempt_at, d.seq LIMIT ?)`, []any{r.EndpointID, now, r.Limit}, nil
	}
	return `seq IN (SELECT seq FROM deliveries WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ?
		ORDER BY next_attempt_at, seq LIMIT ?)`, []any{r.EndpointID, now, r.Limit}, nil
}

func sortJobs(jobs []*store.Job) {
	// RETURNING order is unspecified; keep queue order.
	for i := 1; i < len(jobs); i++ {
		for j := i; j > 0 && jobs[j].Delivery.Seq < jobs[j-1].Delivery.Seq; j-- {
			jobs[j], jobs[j-1] = jobs[j-1], jobs[j]
		}
	}
}
