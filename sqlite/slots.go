package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
		held, err = acquireSlots(ctx, tx, endpointID, owner, want, max, ms(now), ms(until))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: acquire slots: %w", err)
	}
	return held, nil
}

// acquireSlots keeps the slots owner holds up to want and takes free or
// expired ones until it holds want.
func acquireSlots(ctx context.Context, tx *sql.Tx, endpointID, owner string, want, max int, now, until int64) (int, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot >= ?`, endpointID, max); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT slot, owner, lease_until FROM endpoint_slots WHERE endpoint_id = ? ORDER BY slot`, endpointID)
	if err != nil {
		return 0, err
	}
	taken := map[int]bool{}
	var mine []int
	for rows.Next() {
		var slot int
		var o string
		var lu int64
		if err := rows.Scan(&slot, &o, &lu); err != nil {
			rows.Close()
			return 0, err
		}
		switch {
		case o == owner:
			mine = append(mine, slot)
			taken[slot] = true
		case lu >= now:
			taken[slot] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for len(mine) > want {
		last := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot = ? AND owner = ?`, endpointID, last, owner); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE endpoint_slots SET lease_until = ? WHERE endpoint_id = ? AND owner = ?`, until, endpointID, owner); err != nil {
		return 0, err
	}
	held := len(mine)
	for slot := 0; slot < max && held < want; slot++ {
		if taken[slot] {
			continue
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO endpoint_slots (endpoint_id, slot, owner, lease_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (endpoint_id, slot) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE endpoint_slots.lease_until < ?`, endpointID, slot, owner, until, now)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			held++
		}
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
