package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slotwire/slotwire/internal/stats"
	"github.com/slotwire/slotwire/internal/store"
)

// Execer runs a statement: a transaction, or a pool in autocommit.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// statsCols are the figure columns of delivery_stats, in StatsCounts order.
var statsCols = func() []string {
	c := []string{"succeeded", "failed", "retrying", "last_success_at", "last_failure_at"}
	for i := range store.LatencyBins {
		c = append(c, fmt.Sprintf("l%02d", i))
	}
	return c
}()

// statsRows is how many buckets one upsert writes (SQLite binds at most
// 32766 parameters).
const statsRows = 256

// upserts are the statements of upsertStats by row count, built once.
var upserts sync.Map // int -> string

// upsertStats is the statement writing n deltas: each bucket's counts
// added, its last times the later ones.
func upsertStats(n int) string {
	if q, ok := upserts.Load(n); ok {
		return q.(string)
	}
	q := buildUpsertStats(n)
	upserts.Store(n, q)
	return q
}

func buildUpsertStats(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO delivery_stats (endpoint_id, tenant_id, res, bucket, " + strings.Join(statsCols, ", ") + ") VALUES ")
	row := "(" + strings.Repeat("?, ", 4+len(statsCols)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (endpoint_id, res, bucket) DO UPDATE SET ")
	for i, c := range statsCols {
		if i > 0 {
			b.WriteString(", ")
		}
		if strings.HasPrefix(c, "last_") {
			fmt.Fprintf(&b, "%[1]s = CASE WHEN excluded.%[1]s > delivery_stats.%[1]s THEN excluded.%[1]s ELSE delivery_stats.%[1]s END", c)
		} else {
			fmt.Fprintf(&b, "%[1]s = delivery_stats.%[1]s + excluded.%[1]s", c)
		}
	}
	return b.String()
}

func countsArgs(args []any, c *store.StatsCounts) []any {
	args = append(args, c.Succeeded, c.Failed, c.Retrying, c.LastSuccess, c.LastFailure)
	for _, n := range c.Latency {
		args = append(args, n)
	}
	return args
}

// WriteStats adds what the outcomes change to the statistics buckets, in
// the transaction (or right after the statement) recording them.
func (db *DB) WriteStats(ctx context.Context, ex Execer, outcomes []store.Outcome) error {
	ds := stats.Deltas(outcomes)
	for len(ds) > 0 {
		part := ds[:min(len(ds), statsRows)]
		ds = ds[len(part):]
		args := make([]any, 0, len(part)*(4+len(statsCols)))
		for i := range part {
			d := &part[i]
			args = append(args, d.EndpointID, d.TenantID, d.Res, d.Start)
			args = countsArgs(args, &d.StatsCounts)
		}
		if err := db.execStats(ctx, ex, part, args); err != nil {
			return db.errf("write stats", err)
		}
	}
	return nil
}

// StatsBuckets returns the buckets of an endpoint, or of the tenant's
// endpoints summed by start.
func (db *DB) StatsBuckets(ctx context.Context, tenantID, endpointID, res string, since time.Time) ([]store.StatsBucket, error) {
	q := `SELECT bucket, ` + statsSums() + ` FROM delivery_stats
		WHERE tenant_id = ? AND res = ? AND bucket >= ?`
	args := []any{tenantID, res, MS(since)}
	if endpointID != "" {
		q += ` AND endpoint_id = ?`
		args = append(args, endpointID)
	}
	rows, err := db.R.QueryContext(ctx, db.q(q+` GROUP BY bucket ORDER BY bucket`), args...)
	if err != nil {
		return nil, db.errf("stats", err)
	}
	return collect(rows, func(s Scanner) (store.StatsBucket, error) {
		var b store.StatsBucket
		var start int64
		if err := s.Scan(countsDest(&b.StatsCounts, &start)...); err != nil {
			return b, db.errf("stats", err)
		}
		b.Start = FromMS(start)
		return b, nil
	})
}

// statsSums are the figure columns summed over a group (the last times:
// the latest).
func statsSums() string {
	sums := make([]string, len(statsCols))
	for i, c := range statsCols {
		if strings.HasPrefix(c, "last_") {
			sums[i] = "MAX(" + c + ")"
		} else {
			sums[i] = "CAST(SUM(" + c + ") AS BIGINT)"
		}
	}
	return strings.Join(sums, ", ")
}

// countsDest are the scan destinations of lead and then statsSums into c.
func countsDest(c *store.StatsCounts, lead ...any) []any {
	dest := append(lead, &c.Succeeded, &c.Failed, &c.Retrying, &c.LastSuccess, &c.LastFailure)
	for i := range c.Latency {
		dest = append(dest, &c.Latency[i])
	}
	return dest
}

// PruneStats removes buckets at res older than before.
func (db *DB) PruneStats(ctx context.Context, res string, before time.Time) (int, error) {
	r, err := db.W.ExecContext(ctx, db.q(`DELETE FROM delivery_stats WHERE res = ? AND bucket < ?`), res, MS(before))
	if err != nil {
		return 0, db.errf("prune stats", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// UpsertStatsSQL is the statement writing n statistics rows; a driver
// may prepare the one-row form once (StatsOne).
func UpsertStatsSQL(n int) string { return upsertStats(n) }

// execStats writes rows: with StatsOne (SQLite, where parsing a statement
// of hundreds of parameters on every batch cost more than writing it),
// one prepared execution per row in the transaction; otherwise one
// statement (PostgreSQL's driver caches its preparation).
func (db *DB) execStats(ctx context.Context, ex Execer, rows []store.StatsDelta, args []any) error {
	tx, ok := ex.(*sql.Tx)
	if db.StatsOne == nil || !ok {
		_, err := ex.ExecContext(ctx, db.q(upsertStats(len(rows))), args...)
		return err
	}
	st := tx.StmtContext(ctx, db.StatsOne)
	per := len(args) / len(rows)
	for i := range rows {
		if _, err := st.ExecContext(ctx, args[i*per:(i+1)*per]...); err != nil {
			return err
		}
	}
	return nil
}
