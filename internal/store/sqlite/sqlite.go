// Package sqlite is the embedded storage driver of Slotwire, on a single
// SQLite file in WAL mode with foreign keys on and full fsync. Writes go
// through one connection (SQLite has one writer anyway); reads use a small
// pool that WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"

	_ "modernc.org/sqlite" // database/sql driver "sqlite": pure Go, no cgo needed to build slotwire
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure Open.
type Options struct {
	// Migrate applies pending migrations. Without it Open refuses a schema
	// that is not the expected version.
	Migrate bool
	// Synchronous is the SQLite synchronous pragma: "FULL" (default; every
	// commit is fsynced) or "NORMAL".
	Synchronous string
	Logger      *slog.Logger
}

// DB is the SQLite store.
type DB struct {
	w   *sql.DB // single writer connection
	r   *sql.DB // readers
	log *slog.Logger
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sync := strings.ToUpper(o.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" && sync != "EXTRA" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL, NORMAL or EXTRA, not %q", o.Synchronous)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_time_format", "sqlite")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db := &DB{w: w, r: r, log: o.Logger}
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if o.Migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	have, err := db.SchemaVersion(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if want := LatestVersion(); have != want {
		db.Close()
		return nil, &store.SchemaError{Have: have, Want: want}
	}
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

type migration = sqlrows.Migration

func migrations() []migration { return sqlrows.Migrations(migrationFS, "migrations") }

// LatestVersion is the schema version this binary expects.
func LatestVersion() int {
	m := migrations()
	return m[len(m)-1].Version
}

// SchemaVersion returns the applied schema version (0 for a new file).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	var v sql.NullInt64
	if err := db.w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies every migration newer than the database, each in its own
// transaction. It refuses a database newer than the binary.
func (db *DB) Migrate(ctx context.Context) error {
	have, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if want := LatestVersion(); have > want {
		return &store.SchemaError{Have: have, Want: want}
	}
	for _, m := range migrations() {
		if m.Version <= have {
			continue
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		db.log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return nil
}

// inTx runs fn in a write transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

func limitOf(l int) int {
	if l <= 0 || l > 1000 {
		return 100
	}
	return l
}

// Exec runs a statement on the writer; for tests and maintenance.
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	if _, err := db.w.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("sqlite: exec: %w", err)
	}
	return nil
}
