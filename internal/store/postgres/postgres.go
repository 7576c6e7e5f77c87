// Package postgres is the PostgreSQL storage driver of Slotwire, for
// clusters of nodes sharing one database. Queries go through database/sql
// (pgx's stdlib driver); those shared with SQLite live in store/sqlstore,
// this package keeps the pool, its migrations, the batch paths written for
// PostgreSQL (ingest and complete with unnest arrays, claims with SKIP
// LOCKED), and LISTEN and advisory locks on dedicated native connections.
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
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/slotwire/slotwire/internal/secrets"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

//go:embed migrations/postgres/*.sql
var migrationFS embed.FS

// Core is the store's own migration set.
var Core = sqlstore.CoreModule(migrationFS)

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
	// Modules are the parts with tables of their own (the scheduling
	// core) whose migrations this store applies and checks.
	Modules []store.Module
	// Box seals the secrets stored (nil: stored as they are).
	Box *secrets.Box
}

// DB is the PostgreSQL store.
type DB struct {
	*sqlstore.DB
	sql     *sql.DB
	cfg     *pgx.ConnConfig // for the dedicated native connections
	log     *slog.Logger
	modules []store.Module
}

var (
	_ store.Store    = (*DB)(nil)
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
	db := &DB{sql: sdb, cfg: cfg, log: o.Logger, modules: append([]store.Module{Core}, o.Modules...)}
	db.DB = &sqlstore.DB{W: sdb, R: sdb, D: dialect{}, Log: o.Logger, Box: o.Box}
	db.DB.IngestTx, db.DB.RecordTx = db.ingestTx, recordOutcomes
	db.DB.Scrub = db.vacuum
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
	if err := db.Check(ctx, db.modules); err != nil {
		db.Close()
		return nil, err
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
	err = db.DB.Migrate(ctx, db.modules, func(ctx context.Context, m sqlstore.Migration, record string, args ...any) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments pgx uses the simple protocol, which runs
			// a script of several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, record, args...)
			return err
		})
	})
	if err != nil {
		return err
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

// Capabilities: several nodes may share a PostgreSQL database; they tell
// each other about new work (LISTEN/NOTIFY) and elect one node for
// periodic work (advisory locks).
func (db *DB) Capabilities() store.Capabilities {
	return store.Capabilities{MultiNode: true, Notifier: db, Locker: db}
}

type dialect struct{}

func (dialect) Name() string           { return "postgres" }
func (dialect) Rebind(q string) string { return Rebind(q) }
func (dialect) True() string           { return "TRUE" }
func (dialect) LockRow() string        { return " FOR NO KEY UPDATE" }
func (dialect) TableExists() string    { return `SELECT to_regclass(?) IS NOT NULL` }

// ContainsFold: lower() also lowers non-ASCII letters here, so the filter
// keeps a superset of the rows the erasure rewrites.
func (dialect) ContainsFold(text string) string { return `strpos(lower(` + text + `), ?) > 0` }
func (dialect) BlobText(col string) string      { return `convert_from(` + col + `, 'UTF8')` }

// StorageFull: SQLSTATE class 53 (disk full, out of memory, too many
// connections are 53100, 53200, 53300; only disk full means storage).
func (dialect) StorageFull(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53100"
}

// Unreachable: the connection could not be made or was lost (a network
// error, EOF, a connect error), or the server is shutting down, starting
// up or in recovery (SQLSTATE class 57P, class 08).
func (dialect) Unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// Retryable reports a deadlock or serialization failure: the transaction
// was rolled back and may simply be run again.
func (dialect) Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Rebind rewrites '?' placeholders into $1, $2 … in order. A '?' inside a
// single-quoted string literal or a double-quoted identifier is left
// alone. (PostgreSQL's jsonb '?' operators cannot be told apart from
// placeholders; write them as functions, e.g. jsonb_exists.)
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote we are inside of, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			// A doubled quote ('it''s') leaves and re-enters: same result.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
