package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"
	"time"
)

// AcquireSlots leases send slots of an endpoint to owner. The endpoint row
// is locked first, so nodes acquiring slots of one endpoint take turns.
func (db *DB) AcquireSlots(ctx context.Context, endpointID, owner string, want, max int, now, until time.Time) (int, error) {
	held := 0
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM endpoints WHERE id = $1 FOR NO KEY UPDATE`, endpointID).Scan(&one)
		if err == sql.ErrNoRows {
			held = 0
			return nil
		}
		if err != nil {
			return err
		}
		held, err = sqlrows.AcquireSlots(ctx, tx, Rebind, endpointID, owner, want, max, ms(now), ms(until))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: acquire slots: %w", err)
	}
	return held, nil
}

// ReleaseSlots gives back owner's slots.
func (db *DB) ReleaseSlots(ctx context.Context, endpointID, owner string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM endpoint_slots WHERE endpoint_id = $1 AND owner = $2`, endpointID, owner); err != nil {
		return fmt.Errorf("postgres: release slots: %w", err)
	}
	return nil
}
