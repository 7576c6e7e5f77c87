package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// AcquireSlots leases send slots of an endpoint to owner: it keeps those
// owner holds up to want (giving back the rest), renews them until
// `until`, and takes free or expired slots below max until it holds want.
// The endpoint row is locked first, so nodes acquiring slots of one
// endpoint take turns.
func (db *DB) AcquireSlots(ctx context.Context, endpointID, owner string, want, max int, now, until time.Time) (int, error) {
	held := 0
	err := db.InTxRetry(ctx, func(tx *sql.Tx) error {
		held = 0
		var one int
		err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM endpoints WHERE id = ?`+db.D.LockRow()), endpointID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		held, err = db.acquireSlots(ctx, tx, endpointID, owner, want, max, MS(now), MS(until))
		return err
	})
	if err != nil {
		return 0, db.errf("acquire slots", err)
	}
	return held, nil
}

func (db *DB) acquireSlots(ctx context.Context, tx *sql.Tx, endpointID, owner string, want, max int, now, until int64) (int, error) {
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot >= ?`), endpointID, max); err != nil {
		return 0, err
	}
	mine, taken, err := db.slotsOf(ctx, tx, endpointID, owner, now)
	if err != nil {
		return 0, err
	}
	for len(mine) > want {
		last := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot = ? AND owner = ?`), endpointID, last, owner); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE endpoint_slots SET lease_until = ? WHERE endpoint_id = ? AND owner = ?`), until, endpointID, owner); err != nil {
		return 0, err
	}
	held := len(mine)
	for slot := 0; slot < max && held < want; slot++ {
		if taken[slot] {
			continue
		}
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO endpoint_slots (endpoint_id, slot, owner, lease_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (endpoint_id, slot) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE endpoint_slots.lease_until < ?`), endpointID, slot, owner, until, now)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			held++
		}
	}
	return held, nil
}

// slotsOf returns the slots owner holds, in order, and every slot held by
// anyone whose lease has not ended.
func (db *DB) slotsOf(ctx context.Context, tx *sql.Tx, endpointID, owner string, now int64) ([]int, map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT slot, owner, lease_until FROM endpoint_slots WHERE endpoint_id = ? ORDER BY slot`), endpointID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	taken := map[int]bool{}
	var mine []int
	for rows.Next() {
		var slot int
		var o string
		var lu int64
		if err := rows.Scan(&slot, &o, &lu); err != nil {
			return nil, nil, err
		}
		switch {
		case o == owner:
			mine = append(mine, slot)
			taken[slot] = true
		case lu >= now:
			taken[slot] = true
		}
	}
	return mine, taken, rows.Err()
}

// ReleaseSlots gives back every slot owner holds on the endpoint.
func (db *DB) ReleaseSlots(ctx context.Context, endpointID, owner string) error {
	if _, err := db.W.ExecContext(ctx, db.q(`DELETE FROM endpoint_slots WHERE endpoint_id = ? AND owner = ?`), endpointID, owner); err != nil {
		return db.errf("release slots", err)
	}
	return nil
}
