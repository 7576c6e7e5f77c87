// Package postgres is the PostgreSQL storage driver of Slotwire, for
// clusters of nodes sharing one database. Queries go through database/sql
// (pgx's stdlib driver) so that the store.Outbox transaction is a *sql.Tx;
// LISTEN and advisory locks use dedicated native pgx connections.
//
// The driver behaves exactly like the sqlite one and passes the same
// conformance suite. What differs is concurrency: several nodes may claim,
// ingest and migrate at once, so claims lock candidate rows with
// FOR UPDATE SKIP LOCKED, FIFO claims lock the endpoint row, and migrations
// run under an advisory lock.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/slotwire/slotwire/internal/sqlrows"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/slotwire/slotwire/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLockKey is the advisory lock taken while migrating ("slotwire" in
// ASCII). It is outside the int4 range of hashtext, so it never collides
// with a TryLock name.
const migrateLockKey int64 = 0x736c6f7477697265

// Options configure Open.
type Options struct {
	// Migrate applies pending migrations. Without it Open refuses a schema
	// that is not the expected version.
	Migrate bool
	Logger  *slog.Logger
	// MaxConns bounds the database/sql pool (default 10). LISTEN and
	// advisory locks use connections of their own, outside the pool.
	MaxConns int
}

// DB is the PostgreSQL store.
type DB struct {
	sql *sql.DB
	cfg *pgx.ConnConfig // for the dedicated native connections
	log *slog.Logger
}

var (
	_ store.Store    = (*DB)(nil)
	_ store.Outbox   = (*DB)(nil)
	_ store.Notifier = (*DB)(nil)
	_ store.Locker   = (*DB)(nil)
)

// Open connects to the database named by dsn, a PostgreSQL URL or
// keyword/value connection string.
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: drop it.
		return nil, errors.New("postgres: invalid connection string")
	}
	sdb := stdlib.OpenDB(*cfg.Copy())
	sdb.SetMaxOpenConns(o.MaxConns)
	sdb.SetMaxIdleConns(o.MaxConns)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	sdb.SetConnMaxLifetime(time.Hour)
	db := &DB{sql: sdb, cfg: cfg, log: o.Logger}
	if err := sdb.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
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

// Close closes the connection pool. Locks and listeners end with their
// own release function and context.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("postgres: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
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

// SchemaVersion returns the applied schema version (0 for an empty
// database). Unlike sqlite it does not create schema_migrations: only
// Migrate does, under the migration lock.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := db.sql.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies every migration newer than the database, each in its own
// transaction, holding an advisory lock so that nodes starting together
// apply each migration once. It refuses a database newer than the binary.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, db.cfg.Copy())
	if err != nil {
		return fmt.Errorf("postgres: migrate: connect: %w", err)
	}
	// Closing the session also drops the advisory lock, whatever happens.
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var have sql.NullInt64
	if err := conn.QueryRow(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("postgres: migrate: schema version: %w", err)
	}
	if want := LatestVersion(); int(have.Int64) > want {
		return &store.SchemaError{Have: int(have.Int64), Want: want}
	}
	for _, m := range migrations() {
		if m.Version <= int(have.Int64) {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments pgx uses the simple protocol, which runs
			// a script of several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
		}
		db.log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("postgres: migrate: unlock: %w", err)
	}
	return nil
}

// closeConn closes a native connection, even when the caller's context
// has ended.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// inTx runs fn in a transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// retryable reports a deadlock or serialization failure: the transaction
// was rolled back and may simply be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// retry runs fn again, a few times, when it fails on a deadlock or
// serialization failure; for idempotent work that updates rows other nodes
// may be updating in another order (Complete, Release, ReclaimExpired).
func (db *DB) retry(ctx context.Context, fn func() error) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = fn(); err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		db.log.Debug("postgres: retrying after conflict", "err", err)
	}
	return err
}

// inTxRetry is inTx, retried on deadlock; fn must be idempotent.
func (db *DB) inTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.retry(ctx, func() error { return db.inTx(ctx, fn) })
}

func limitOf(l int) int {
	if l <= 0 || l > 1000 {
		return 100
	}
	return l
}

// Exec runs a statement on the pool; for tests and maintenance.
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	if _, err := db.sql.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("postgres: exec: %w", err)
	}
	return nil
}

// args numbers the placeholders of a query built piece by piece.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
