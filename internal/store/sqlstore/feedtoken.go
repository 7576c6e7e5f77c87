package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slotwire/slotwire"
)

// SetFeedToken stores (or with "" removes) an endpoint's feed token hash.
func (db *DB) SetFeedToken(ctx context.Context, tenantID, endpointID, hash string) error {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE endpoints SET feed_token_hash = ? WHERE tenant_id = ? AND id = ?`),
		sql.NullString{String: hash, Valid: hash != ""}, tenantID, endpointID)
	if err != nil {
		return db.errf("set feed token", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("endpoint %s: %w", endpointID, slotwire.ErrNotFound)
	}
	return nil
}

// FeedTokenEndpoint finds the endpoint a feed token hash belongs to.
func (db *DB) FeedTokenEndpoint(ctx context.Context, hash string) (string, string, error) {
	var tenantID, endpointID string
	err := db.R.QueryRowContext(ctx, db.q(`SELECT tenant_id, id FROM endpoints WHERE feed_token_hash = ?`), hash).
		Scan(&tenantID, &endpointID)
	if err != nil {
		return "", "", db.scanErr("feed token", err)
	}
	return tenantID, endpointID, nil
}
