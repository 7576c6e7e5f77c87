package sqlstore

import (
	"context"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// EndpointCounts counts the endpoints of every tenant in one query.
func (db *DB) EndpointCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT tenant_id, COUNT(*) FROM endpoints GROUP BY tenant_id`)
	if err != nil {
		return nil, db.errf("count endpoints", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, db.errf("count endpoints", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("count endpoints", err)
	}
	return out, nil
}

// TenantStats sums every tenant's buckets at res since since, in one query
// (the delivery_stats_age index finds the buckets).
func (db *DB) TenantStats(ctx context.Context, res string, since time.Time) (map[string]store.StatsCounts, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT tenant_id, `+statsSums()+` FROM delivery_stats
		WHERE res = ? AND bucket >= ? GROUP BY tenant_id`), res, MS(since))
	if err != nil {
		return nil, db.errf("tenant stats", err)
	}
	defer rows.Close()
	out := map[string]store.StatsCounts{}
	for rows.Next() {
		var id string
		var c store.StatsCounts
		if err := rows.Scan(countsDest(&c, &id)...); err != nil {
			return nil, db.errf("tenant stats", err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("tenant stats", err)
	}
	return out, nil
}
