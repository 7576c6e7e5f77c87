package store

import (
	"context"
	"database/sql"

	"github.com/slotwire/slotwire"
)

// Dialect hides the few differences between the SQL databases the drivers
// use, for code outside the drivers that writes its own SQL.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Rebind rewrites '?' placeholders into the driver's form ($1, $2 …).
	Rebind(query string) string
}

// OutboxResult says what a module's write transaction published.
type OutboxResult struct {
	Events []*slotwire.Event
	// EndpointIDs have new pending deliveries (to wake the dispatcher).
	EndpointIDs []string
}

// Notifier is implemented by drivers that can tell other nodes about new
// work (PostgreSQL LISTEN/NOTIFY). Without it each node polls.
type Notifier interface {
	// NotifyWork announces endpoints with new pending deliveries.
	NotifyWork(ctx context.Context, endpointIDs []string) error
	// ListenWork delivers endpoint ids announced by any node until ctx ends.
	ListenWork(ctx context.Context) (<-chan string, error)
}

// Locker is implemented by drivers that can elect one node for periodic
// work (retention, reminders, roll-ups).
type Locker interface {
	// TryLock takes the named lock if no other live node holds it. The
	// lock is held until release is called or the node dies.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// ReadTx is a read-only transaction of a module (the scheduling core):
// on SQLite it runs on the reader pool, never under the write lock.
// *sql.Tx has the same query methods.
type ReadTx interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// Dialect says how to write SQL for this database.
	Dialect() Dialect
}

// WriteTx is a module's write transaction. Emit publishes an event in the
// same transaction (transactional outbox): a rolled back change emits
// nothing, a committed one always has its events.
type WriteTx interface {
	ReadTx
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	// Emit stores e (ID, TenantID, Type, Data and CreatedAt filled by the
	// caller) and its deliveries, fanned out with internal/fanout.
	Emit(e *slotwire.Event) error
}

// Transactor gives modules (the scheduling core) transactions with
// separate read and write paths.
type Transactor interface {
	Read(ctx context.Context, fn func(ctx context.Context, tx ReadTx) error) error
	Write(ctx context.Context, fn func(ctx context.Context, tx WriteTx) error) (OutboxResult, error)
}
