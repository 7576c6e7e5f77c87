// Package sqlite is the embedded storage driver of Slotwire, on a single
// SQLite file in WAL mode with foreign keys on, full fsync and freed
// content zeroed (secure_delete). Writes go through one connection (SQLite
// has one writer anyway); reads use a small pool that WAL lets run beside
// the writer. The queries shared with
// PostgreSQL live in store/sqlstore; this package keeps the file, its
// pools and pragmas, its migrations, and the hot paths written for SQLite
// (ingest, claim, complete).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/slotwire/slotwire/internal/secrets"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

//go:embed migrations/sqlite/*.sql
var migrationFS embed.FS

// Core is the store's own migration set.
var Core = sqlstore.CoreModule(migrationFS)

// Options configure Open.
type Options struct {
	// Migrate applies pending migrations. Without it Open refuses a schema
	// that is not the expected version.
	Migrate bool
	// Synchronous is the SQLite synchronous pragma: "FULL" (default; every
	// commit is fsynced) or "NORMAL".
	Synchronous string
	Logger      *slog.Logger
	// Modules are the parts with tables of their own (the scheduling
	// core) whose migrations this store applies and checks.
	Modules []store.Module
	// Box seals the secrets stored (nil: stored as they are).
	Box *secrets.Box
}

// DB is the SQLite store.
type DB struct {
	*sqlstore.DB
	w       *sql.DB // single writer connection
	r       *sql.DB // readers
	hot     wstmts  // the hot path's statements, on w
	log     *slog.Logger
	modules []store.Module
}

var _ store.Store = (*DB)(nil)

// SQLDriver is the database/sql name of the SQLite driver built in (see
// driver_modernc.go).
const SQLDriver = driverName

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w, r, err := openPools(path, o.Synchronous)
	if err != nil {
		return nil, err
	}
	db := &DB{w: w, r: r, log: o.Logger, modules: append([]store.Module{Core}, o.Modules...)}
	db.DB = &sqlstore.DB{W: w, R: r, D: dialect{}, Log: o.Logger, Box: o.Box}
	db.DB.IngestTx, db.DB.RecordTx = db.ingestTx, db.recordOutcomes
	db.DB.SecureTx, db.DB.Scrub = secureTx, db.purge
	if err := db.open(ctx, path, o.Migrate); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, path string, migrate bool) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	if err := db.Check(ctx, db.modules); err != nil {
		return err
	}
	var err error
	if db.hot, err = prepareHot(ctx, db.w); err != nil {
		return err
	}
	db.DB.StatsOne = db.hot[sqlStatsOne]
	return nil
}

// openPools opens the writer connection and the reader pool.
func openPools(path, synchronous string) (w, r *sql.DB, err error) {
	sync := strings.ToUpper(synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" && sync != "EXTRA" {
		return nil, nil, fmt.Errorf("sqlite: synchronous must be FULL, NORMAL or EXTRA, not %q", synchronous)
	}
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(" + sync + ")"}
	// A new file is made with incremental vacuum, so the retention job can
	// give space back (Compact); on an older file the pragma does nothing.
	// The WAL is cut back to 64 MiB after checkpoints. The writer zeroes
	// what it deletes or overwrites inside b-tree pages (secure_delete
	// FAST: no extra I/O, the pages are written anyway), so that old
	// copies of rows do not stay in free space for an erasure to miss; an
	// erasure turns it fully on (secureTx).
	writer := append([]string{"auto_vacuum(2)"}, append(slices.Clip(pragmas), "journal_size_limit(67108864)", "secure_delete(FAST)")...)
	if w, err = sql.Open(driverName, dsn(path, writer, true)); err != nil {
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Readers cannot change anything, whatever a caller sends them.
	if r, err = sql.Open(driverName, dsn(path, append(pragmas, "query_only(1)"), false)); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return w, r, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.hot.close(), db.r.Close(), db.w.Close())
}

// Migrate applies every migration newer than the database, each in its own
// transaction. It refuses a database newer than the binary.
func (db *DB) Migrate(ctx context.Context) error {
	return db.DB.Migrate(ctx, db.modules, func(ctx context.Context, m sqlstore.Migration, record string, args ...any) error {
		return db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, record, args...)
			return err
		})
	})
}

// Capabilities: an SQLite file has one node; it neither notifies nor
// elects.
func (db *DB) Capabilities() store.Capabilities { return store.Capabilities{} }

type dialect struct{}

func (dialect) Name() string           { return "sqlite" }
func (dialect) Rebind(q string) string { return q }
func (dialect) True() string           { return "1" }
func (dialect) LockRow() string        { return "" } // the write transaction already excludes every other writer
func (dialect) Retryable(error) bool   { return false }

// StorageFull: SQLITE_FULL, the disk or the database's size cap is full.
func (dialect) StorageFull(err error) bool {
	code, ok := errorCode(err)
	return ok && code&0xff == sqliteFull
}

// Unreachable: an embedded database is never out of reach.
func (dialect) Unreachable(error) bool { return false }

// sqliteFull is SQLite's result code SQLITE_FULL.
const sqliteFull = 13

// ContainsFold: SQLite's lower() lowers ASCII letters only, as the
// erasure's terms are lowered.
func (dialect) ContainsFold(text string) string { return `instr(lower(` + text + `), ?) > 0` }
func (dialect) BlobText(col string) string      { return `CAST(` + col + ` AS TEXT)` }

func (dialect) TableExists() string {
	return `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`
}
