package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// secureTx turns secure_delete fully on for the erasure's transaction:
// SQLite then zeroes all the content it overwrites or frees, the pages it
// puts on the freelist (an overflow chain of a rewritten payload) too,
// where the writer's usual FAST mode zeroes only within b-tree pages. The
// pragma is per connection; the writer has one.
func secureTx(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`)
	return err
}

// purge ends an erasure: secure_delete back to FAST on the writer (ON
// costs writes of freed pages), then a checkpoint that copies the WAL into the database file
// and truncates the WAL to nothing, so the page versions written before
// the erasure are gone from both files. The checkpoint waits (busy
// timeout) for readers of older snapshots.
func (db *DB) purge(ctx context.Context, _ []string) error {
	if _, err := db.w.ExecContext(ctx, `PRAGMA secure_delete = FAST`); err != nil {
		return err
	}
	var busy, frames, copied int
	if err := db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return err
	}
	if busy != 0 {
		return errors.New("sqlite: readers kept the WAL from being checkpointed and truncated")
	}
	return nil
}
