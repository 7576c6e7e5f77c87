package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"
	"time"
)

// AcquireSlots leases send slots of an endpoint to owner.
func (db *DB) AcquireSlots(ctx context.Context, endpointID, owner string, want, max int, now, until time.Time) (int, error) {
	held := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM endpoints WHERE id = ?`, endpointID).Scan(&one)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		held, err = sqlrows.AcquireSlots(ctx, tx, func(q string) string { return q }, endpointID, owner, want, max, ms(now), ms(until))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: acquire slots: %w", err)
	}
	return held, nil
}

// ReleaseSlots gives back owner's slots.
func (db *DB) ReleaseSlots(ctx context.Context, endpointID, owner string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM endpoint_slots WHERE endpoint_id = ? AND owner = ?`, endpointID, owner); err != nil {
		return fmt.Errorf("sqlite: release slots: %w", err)
	}
	return nil
}
