package sqlrows

import (
	"context"
	"database/sql"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
)

// Querier is what a transaction or a pool offers for reads.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Outbox runs fn inside tx with an emit that stores each event and its
// deliveries through ingest, in the same transaction; it reports what was
// published and which endpoints got pending work.
func Outbox(ctx context.Context, tx *sql.Tx, d store.Dialect,
	ingest func(context.Context, *sql.Tx, *store.IngestBatch) error,
	endpoints func(ctx context.Context, tx Querier, tenantID string) ([]*slotwire.Endpoint, error),
	fn func(ctx context.Context, tx *sql.Tx, d store.Dialect, emit store.Emit) error) (store.OutboxResult, error) {
	var res store.OutboxResult
	seen := map[string]bool{}
	emit := func(e *slotwire.Event) error {
		if e.Payload == nil {
			e.Payload = e.BuildPayload()
		}
		eps, err := endpoints(ctx, tx, e.TenantID)
		if err != nil {
			return err
		}
		item := &store.IngestItem{Event: e}
		for _, ep := range fanout.Targets(e, eps) {
			item.Targets = append(item.Targets, store.Target{Endpoint: ep})
			if !seen[ep.ID] {
				seen[ep.ID] = true
				res.EndpointIDs = append(res.EndpointIDs, ep.ID)
			}
		}
		b := &store.IngestBatch{Now: e.CreatedAt, Items: []*store.IngestItem{item}}
		if err := ingest(ctx, tx, b); err != nil {
			return err
		}
		res.Events = append(res.Events, e)
		return nil
	}
	err := fn(ctx, tx, d, emit)
	return res, err
}
