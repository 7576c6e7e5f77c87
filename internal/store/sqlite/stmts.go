package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// The hot path's statements, prepared once on the single writer
// connection when the store opens (after migrating): a transaction takes
// them with Tx.StmtContext, which reuses a statement already prepared on
// its connection, so a batch parses no SQL.
const (
	sqlVersion    = `SELECT endpoints_version FROM tenants WHERE id = ?`
	sqlKeyExists  = `SELECT 1 FROM api_keys WHERE hash = ?`
	sqlFindKey    = `SELECT id, created_at FROM events WHERE tenant_id = ? AND idempotency_key = ?`
	sqlInsEvent   = `INSERT INTO events (id, tenant_id, type, idempotency_key, ordering_key, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlLive       = `SELECT 1 FROM endpoints WHERE id = ? AND enabled = 1`
	sqlInsDeliver = `INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status,
		next_attempt_at, lease_owner, lease_until, ordering_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsAttempt = `INSERT OR IGNORE INTO attempts (delivery_id, number, at, status_code, duration_ms, response_body, error,
		request_headers, response_headers)
		SELECT id, attempts + 1, ?, ?, ?, ?, ?, ?, ? FROM deliveries WHERE id = ?`
	sqlComplete = `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
		lease_owner = NULL, lease_until = NULL, last_status_code = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status = 'inflight' AND lease_owner = ?`
	// sqlSucceedFirst records a first attempt that succeeded in the
	// delivery's own row: no attempts row.
	sqlSucceedFirst = `UPDATE deliveries SET status = 'succeeded', attempts = 1, next_attempt_at = NULL,
		lease_owner = NULL, lease_until = NULL, last_status_code = ?, last_error = '', updated_at = ?,
		inline_at = ?, inline_ms = ?, inline_body = ?, inline_req_headers = ?, inline_resp_headers = ?
		WHERE id = ? AND status = 'inflight' AND lease_owner = ? AND attempts = 0`
)

// sqlStatsOne writes one statistics row (sqlstore.DB.StatsOne).
var sqlStatsOne = sqlstore.UpsertStatsSQL(1)

var hotQueries = []string{sqlVersion, sqlKeyExists, sqlFindKey, sqlInsEvent, sqlLive, sqlInsDeliver, sqlInsAttempt, sqlComplete,
	sqlSucceedFirst, sqlStatsOne}

// wstmts are the hot statements by query.
type wstmts map[string]*sql.Stmt

func prepareHot(ctx context.Context, w *sql.DB) (wstmts, error) {
	s := wstmts{}
	for _, q := range hotQueries {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		s[q] = st
	}
	return s, nil
}

// in returns the hot statement query bound to tx.
func (s wstmts) in(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	return tx.StmtContext(ctx, s[query])
}

func (s wstmts) close() error {
	var errs []error
	for _, st := range s {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
