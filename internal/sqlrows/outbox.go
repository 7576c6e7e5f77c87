package sqlrows

import (
	"context"
	"database/sql"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Outbox runs fn inside tx with an emit that stores each event and its
// deliveries through ingest, in the same transaction; it reports what was
// published and which endpoints got pending work.
func Outbox(ctx context.Context, tx *sql.Tx, d store.Dialect,
	ingest func(context.Context, *sql.Tx, *store.IngestBatch) error,
	fn func(ctx context.Context, tx *sql.Tx, d store.Dialect, emit store.Emit) error) (store.OutboxResult, error) {
	var res store.OutboxResult
	seen := map[string]bool{}
	emit := func(e *slotwire.Event) error {
		if e.Payload == nil {
			e.Payload = e.BuildPayload()
		}
		b := &store.IngestBatch{Now: e.CreatedAt, Items: []*store.IngestItem{{Event: e}},
			Take: func(ep *slotwire.Endpoint) bool {
				if !seen[ep.ID] {
					seen[ep.ID] = true
					res.EndpointIDs = append(res.EndpointIDs, ep.ID)
				}
				return false
			}}
		if err := ingest(ctx, tx, b); err != nil {
			return err
		}
		res.Events = append(res.Events, e)
		return nil
	}
	err := fn(ctx, tx, d, emit)
	return res, err
}
