package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// secureTx turns secure_delete on for the erasure's transaction: SQLite
// then zeroes the content it overwrites or frees (cells of the rows
// rewritten, overflow pages) instead of leaving it in free space. The
// pragma is per connection; the writer has one.
func secureTx(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`)
	return err
}

// purge ends an erasure: secure_delete off again on the writer (it costs
// writes), then a checkpoint that copies the WAL into the database file
// and truncates the WAL to nothing, so the page versions written before
// the erasure are gone from both files. The checkpoint waits (busy
// timeout) for readers of older snapshots.
func (db *DB) purge(ctx context.Context, _ []string) error {
	if _, err := db.w.ExecContext(ctx, `PRAGMA secure_delete = OFF`); err != nil {
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
