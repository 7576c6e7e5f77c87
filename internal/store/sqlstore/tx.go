package sqlstore

import (
	"context"
	"database/sql"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
)

// readTx is a read-only transaction on the reader pool.
type readTx struct {
	*sql.Tx
	d store.Dialect
}

func (t readTx) Dialect() store.Dialect { return t.d }

// Read runs fn in a read-only transaction on the reader pool: on SQLite it
// never waits for, nor holds, the write lock.
func (db *DB) Read(ctx context.Context, fn func(ctx context.Context, tx store.ReadTx) error) error {
	tx, err := db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return db.errf("begin read", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(ctx, readTx{Tx: tx, d: db.D})
}

// writeTx is a module's write transaction with its outbox.
type writeTx struct {
	readTx
	ctx  context.Context
	db   *DB
	res  *store.OutboxResult
	seen map[string]bool
}

// Emit stores e and its deliveries, fanned out to the tenant's enabled
// endpoints, in the transaction.
func (t *writeTx) Emit(e *slotwire.Event) error {
	if e.Payload == nil {
		e.Payload = e.BuildPayload()
	}
	eps, err := t.db.enabledEndpoints(t.ctx, t.Tx, e.TenantID)
	if err != nil {
		return err
	}
	item := &store.IngestItem{Event: e}
	for _, ep := range fanout.Targets(e, eps) {
		item.Targets = append(item.Targets, store.Target{Endpoint: ep})
		if !t.seen[ep.ID] {
			t.seen[ep.ID] = true
			t.res.EndpointIDs = append(t.res.EndpointIDs, ep.ID)
		}
	}
	b := &store.IngestBatch{Now: e.CreatedAt, Items: []*store.IngestItem{item}}
	if err := t.db.IngestTx(t.ctx, t.Tx, b); err != nil {
		return err
	}
	t.res.Events = append(t.res.Events, e)
	return nil
}

// Write runs fn in a write transaction whose emitted events are stored
// with their deliveries (transactional outbox): a rolled back change emits
// nothing, a committed one always has its events.
func (db *DB) Write(ctx context.Context, fn func(ctx context.Context, tx store.WriteTx) error) (store.OutboxResult, error) {
	var res store.OutboxResult
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		res = store.OutboxResult{}
		w := &writeTx{readTx: readTx{Tx: tx, d: db.D}, ctx: ctx, db: db, res: &res, seen: map[string]bool{}}
		return fn(ctx, w)
	})
	if err != nil {
		return store.OutboxResult{}, err
	}
	return res, nil
}
