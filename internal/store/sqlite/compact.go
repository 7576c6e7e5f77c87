package sqlite

import (
	"context"
	"fmt"
)

// compactChunk is how many pages one incremental vacuum step releases:
// each is a short write, so deliveries go on in between.
const compactChunk = 2048

// Compact releases the file's free pages beyond a reserve kept for reuse
// (a tenth of the file, at least 1024 pages), on files made with
// incremental auto-vacuum (every file this version creates). It returns
// the bytes released.
func (db *DB) Compact(ctx context.Context) (int64, error) {
	var mode, free, pages, size int64
	for _, p := range []struct {
		q string
		v *int64
	}{{"PRAGMA auto_vacuum", &mode}, {"PRAGMA freelist_count", &free}, {"PRAGMA page_count", &pages}, {"PRAGMA page_size", &size}} {
		if err := db.w.QueryRowContext(ctx, p.q).Scan(p.v); err != nil {
			return 0, fmt.Errorf("sqlite: compact: %w", err)
		}
	}
	keep := max(1024, pages/10)
	if mode != 2 || free <= keep {
		return 0, nil
	}
	var released int64
	for left := free - keep; left > 0; left -= compactChunk {
		n := min(left, compactChunk)
		if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", n)); err != nil {
			return released * size, fmt.Errorf("sqlite: compact: %w", err)
		}
		released += n
	}
	return released * size, nil
}
