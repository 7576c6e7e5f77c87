package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Archive archives a batch like every store (sqlstore.ArchiveTx), then
// rewrites the rows it archived. SQLite shrinks an updated row in place
// and leaves its page allocated however empty it became, and new rows go
// to the end of their tables: the space of the deleted bodies would never
// be used again. Deleting and inserting the rows again makes SQLite merge
// the emptied pages, which become free for new rows (and for Compact).
// Foreign keys are off on the writer for this transaction only, so that
// deleting a row does not cascade to the rows that refer to it.
func (db *DB) Archive(ctx context.Context, before, now time.Time, limit int) (store.ArchiveResult, error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return store.ArchiveResult{}, db.WriteErr(fmt.Errorf("sqlite: archive: %w", err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return store.ArchiveResult{}, db.WriteErr(fmt.Errorf("sqlite: archive: %w", err))
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); err != nil {
			// Never hand on a writer without foreign keys: drop it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	res, err := db.archiveRepacked(ctx, conn, before, now, limit)
	return res, db.WriteErr(err)
}

func (db *DB) archiveRepacked(ctx context.Context, conn *sql.Conn, before, now time.Time, limit int) (store.ArchiveResult, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return store.ArchiveResult{}, fmt.Errorf("sqlite: archive: %w", err)
	}
	defer tx.Rollback()
	res, err := db.ArchiveTx(ctx, tx, before, now, limit)
	if err == nil {
		err = repack(ctx, tx, "deliveries", res.DeliveryIDs)
	}
	if err == nil {
		err = repack(ctx, tx, "events", res.EventIDs)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return store.ArchiveResult{}, fmt.Errorf("sqlite: archive: %w", err)
	}
	return res.ArchiveResult, nil
}

// repack deletes the rows of table with these ids and inserts them again
// (deliveries keep their seq; events get a new rowid, which nothing
// refers to).
func repack(ctx context.Context, tx *sql.Tx, table string, ids []any) error {
	if len(ids) == 0 {
		return nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	tmp := "temp.repack_" + table
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DROP TABLE IF EXISTS ` + tmp, nil},
		{`CREATE TEMP TABLE repack_` + table + ` AS SELECT * FROM ` + table + ` WHERE id IN (` + in + `)`, ids},
		{`DELETE FROM ` + table + ` WHERE id IN (` + in + `)`, ids},
		{`INSERT INTO ` + table + ` SELECT * FROM ` + tmp, nil},
		{`DROP TABLE ` + tmp, nil},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("repack %s: %w", table, err)
		}
	}
	return nil
}
