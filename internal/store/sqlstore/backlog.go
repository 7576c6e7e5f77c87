package sqlstore

import (
	"context"
	"database/sql"

	"github.com/slotwire/slotwire/internal/store"
)

// Backlog counts the pending deliveries (the deliveries_due partial index
// holds exactly them) and finds the oldest.
func (db *DB) Backlog(ctx context.Context) (store.Backlog, error) {
	var n int
	var oldest sql.NullInt64
	err := db.R.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE status = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return store.Backlog{}, db.errf("backlog", err)
	}
	b := store.Backlog{Pending: n}
	if oldest.Valid {
		b.Oldest = FromMS(oldest.Int64)
	}
	return b, nil
}
