package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// vacuum ends an erasure: an UPDATE leaves the old row version in the
// table until VACUUM removes it, so the tables the erasure may have
// changed are vacuumed now (outside any transaction, as VACUUM must be)
// rather than whenever autovacuum comes by. Plain VACUUM makes the space
// reusable without locking out readers or writers; the bytes stay on disk
// until overwritten, and in WAL segments and backups (docs/operations.md).
func (db *DB) vacuum(ctx context.Context, tables []string) error {
	tables = slices.Compact(slices.Sorted(slices.Values(tables)))
	if len(tables) == 0 {
		return nil
	}
	if _, err := db.sql.ExecContext(ctx, `VACUUM `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("postgres: vacuum after erasure: %w", err)
	}
	return nil
}
