package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/secrets"
	"github.com/slotwire/slotwire/internal/store"
)

// Dialect is what differs between the SQL engines for the shared queries.
type Dialect interface {
	store.Dialect
	// True is the literal of a true boolean column ("1", "TRUE").
	True() string
	// LockRow is appended to a SELECT of rows about to be updated in the
	// same transaction ("" where the transaction already excludes others).
	LockRow() string
	// Retryable reports an error after which the transaction was rolled
	// back and may simply run again (deadlock, serialization failure).
	Retryable(err error) bool
	// StorageFull reports an error saying the database or its disk is
	// full (SQLITE_FULL, PostgreSQL class 53).
	StorageFull(err error) bool
	// Unreachable reports an error saying the database server cannot be
	// reached right now (refused or lost connection, server shutting
	// down or starting up): nothing was written, and trying again later
	// may succeed.
	Unreachable(err error) bool
	// TableExists is a query with one '?' (a table name) answering true
	// when the table exists.
	TableExists() string
	// ContainsFold is a condition with one '?' (a string whose ASCII
	// letters are in lower case), true when the text expression holds it
	// once its own letters are lowered: the erasure's candidate filter.
	ContainsFold(text string) string
	// BlobText is the text of a BLOB (BYTEA) column holding UTF-8.
	BlobText(col string) string
}

// DB runs the shared queries. W takes writes, R reads (the same pool on
// engines without a single writer).
type DB struct {
	W, R *sql.DB
	D    Dialect
	Log  *slog.Logger
	// The hot paths each engine writes its own way:
	// IngestTx stores a batch of events and their deliveries (Ingest, and
	// Emit in a module's write transaction);
	IngestTx func(ctx context.Context, tx *sql.Tx, b *store.IngestBatch) error
	// RecordTx records attempts and moves their deliveries (Complete); it
	// returns the outcomes that moved their delivery (still leased to their
	// owner), which alone count in the statistics.
	RecordTx func(ctx context.Context, tx *sql.Tx, b store.CompleteBatch) ([]store.Outcome, error)
	// SecureTx, when set, readies an erasure's transaction so that what
	// it overwrites is zeroed in the database file (SQLite: secure_delete
	// on the writer connection).
	SecureTx func(ctx context.Context, tx *sql.Tx) error
	// Scrub, when set, runs after an erasure's transaction, committed or
	// not, to remove the old versions of the rows it changed (SQLite:
	// secure_delete back to FAST and a WAL checkpoint that truncates the
	// log; PostgreSQL: VACUUM of the tables).
	Scrub func(ctx context.Context, tables []string) error

	// Box seals the secrets stored (endpoint secrets and header values);
	// nil stores them as they are (tools that never touch endpoints).
	Box *secrets.Box

	stmts sync.Map // query -> *sql.Stmt on R

	// StatsOne, when set, is the one-row statistics upsert prepared on W
	// (UpsertStatsSQL(1)), executed once per row in the transaction.
	StatsOne *sql.Stmt

	full atomic.Bool // the last write failed because storage is full
}

// Ingest stores a batch of events and their deliveries in one transaction.
func (db *DB) Ingest(ctx context.Context, b *store.IngestBatch) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.IngestTx(ctx, tx, b) })
}

// readStmt returns the query prepared on the reader pool, prepared once:
// for the reads made on every publish (fan-out, API keys).
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.R.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	if old, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// q rebinds a query written with '?' placeholders.
func (db *DB) q(query string) string { return db.D.Rebind(query) }

// errf prefixes an error with the engine's name. An error saying the
// server cannot be reached also carries a storage_unavailable error for
// the API (503, retry later).
func (db *DB) errf(what string, err error) error {
	if db.D.Unreachable(err) && slotwire.ErrorCode(err) != slotwire.ECodeStorageUnavailable {
		return fmt.Errorf("%w: %s: %s: %w", errUnreachable, db.D.Name(), what, err)
	}
	return fmt.Errorf("%s: %s: %w", db.D.Name(), what, err)
}

// errUnreachable is the caller-safe error of a database that cannot be
// reached.
var errUnreachable = fmt.Errorf("%w: %w", slotwire.Errorf(slotwire.ECodeStorageUnavailable,
	"the database is unreachable: nothing was stored; retry shortly"), store.ErrUnreachable)

// InTx runs fn in a write transaction; its error goes through WriteErr.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.WriteErr(db.inTx(ctx, fn))
}

// WriteErr classifies the error of a write. A write refused because
// storage is full comes back as a storage_unavailable error, and Ping
// reports the store unavailable until a write succeeds again; so does a
// database that cannot be reached. A nil error clears the full state.
func (db *DB) WriteErr(err error) error {
	if err == nil {
		db.full.Store(false)
		return nil
	}
	if db.D.StorageFull(err) {
		db.full.Store(true)
		return fmt.Errorf("%w: %w: %w", slotwire.Errorf(slotwire.ECodeStorageUnavailable,
			"storage is full: nothing was stored; retry when the operator has freed space"), store.ErrFull, err)
	}
	if db.D.Unreachable(err) && slotwire.ErrorCode(err) != slotwire.ECodeStorageUnavailable {
		return fmt.Errorf("%w: %w", errUnreachable, err)
	}
	return err
}

func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return db.errf("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.errf("commit", err)
	}
	return nil
}

// Retry runs fn again, a few times, when it fails with a retryable error;
// for idempotent work that other nodes may be doing in another order.
func (db *DB) Retry(ctx context.Context, fn func() error) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = fn(); err == nil || !db.D.Retryable(err) || ctx.Err() != nil {
			return err
		}
		db.Log.Debug("retrying after conflict", "engine", db.D.Name(), "err", err)
	}
	return err
}

// InTxRetry is InTx, retried on conflicts; fn must be idempotent.
func (db *DB) InTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.Retry(ctx, func() error { return db.InTx(ctx, fn) })
}

// execCount runs one idempotent write, retried on conflicts, and returns
// the number of rows it changed.
func (db *DB) execCount(ctx context.Context, what, query string, args ...any) (int, error) {
	var n int64
	err := db.Retry(ctx, func() error {
		res, err := db.W.ExecContext(ctx, db.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.errf(what, err)
	}
	return int(n), nil
}

// Ping checks that the database answers and, after a write failed because
// storage was full, that it takes writes again: a probe allocates a page
// and commits, so the store recovers on its own when space returns.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.R.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return db.errf("ping", err)
	}
	if !db.full.Load() {
		return nil
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE slotwire_write_probe (x INTEGER)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DROP TABLE slotwire_write_probe`)
		return err
	})
}

// Exec runs a statement; for tests and maintenance.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	if _, err := db.W.ExecContext(ctx, query, args...); err != nil {
		return db.errf("exec", err)
	}
	return nil
}

// Scanner is a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(...any) error }

// Querier is what a transaction or a pool offers for reads.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// MS is t in Unix milliseconds, the time format of every table.
func MS(t time.Time) int64 { return t.UnixMilli() }

// FromMS is the UTC time of a Unix millisecond value.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMS(v.Int64)
	return &t
}

func optMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// scanErr: a missing row is slotwire.ErrNotFound as "<what>: not found",
// the form the API turns into "<what> not found".
func (db *DB) scanErr(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, slotwire.ErrNotFound)
	}
	return db.errf(what, err)
}

func limitOf(l int) int {
	if l <= 0 || l > 1000 {
		return 100
	}
	return l
}

// collect reads every row with scan.
func collect[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func notFound(what string) error { return fmt.Errorf("%s: %w", what, slotwire.ErrNotFound) }
