package sqlstore

import (
	"context"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Heartbeat writes the node's row (one upsert).
func (db *DB) Heartbeat(ctx context.Context, n store.NodeInfo) error {
	_, err := db.W.ExecContext(ctx, db.q(`INSERT INTO nodes (id, role, version, host, started_at, heartbeat_at, inflight)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET role = excluded.role, version = excluded.version, host = excluded.host,
			started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, inflight = excluded.inflight`),
		n.ID, n.Role, n.Version, n.Host, MS(n.StartedAt), MS(n.HeartbeatAt), n.InFlight)
	if err != nil {
		return db.errf("node heartbeat", err)
	}
	return nil
}

// ListNodes returns the registry by id.
func (db *DB) ListNodes(ctx context.Context) ([]store.NodeInfo, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT id, role, version, host, started_at, heartbeat_at, inflight FROM nodes ORDER BY id`)
	if err != nil {
		return nil, db.errf("list nodes", err)
	}
	return collect(rows, func(s Scanner) (store.NodeInfo, error) {
		var n store.NodeInfo
		var started, beat int64
		if err := s.Scan(&n.ID, &n.Role, &n.Version, &n.Host, &started, &beat, &n.InFlight); err != nil {
			return n, db.errf("list nodes", err)
		}
		n.StartedAt, n.HeartbeatAt = FromMS(started), FromMS(beat)
		return n, nil
	})
}

// RemoveNode deletes a node's row.
func (db *DB) RemoveNode(ctx context.Context, id string) error {
	if _, err := db.W.ExecContext(ctx, db.q(`DELETE FROM nodes WHERE id = ?`), id); err != nil {
		return db.errf("remove node", err)
	}
	return nil
}

// RemoveStaleNodes deletes the rows of nodes silent since before.
func (db *DB) RemoveStaleNodes(ctx context.Context, before time.Time) (int, error) {
	r, err := db.W.ExecContext(ctx, db.q(`DELETE FROM nodes WHERE heartbeat_at < ?`), MS(before))
	if err != nil {
		return 0, db.errf("remove stale nodes", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
