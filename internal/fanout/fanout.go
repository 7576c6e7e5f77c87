// Package fanout decides which endpoints get a delivery of an event. It is
// the one place a routing rule goes: ingest calls it before the
// transaction (so dispatch can reserve room for the deliveries), and the
// transactional outbox calls it inside the transaction of a scheduling
// change. It is pure: no I/O, no locks.
package fanout

import (
	"context"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Targets returns the endpoints among eps (a tenant's enabled endpoints)
// that subscribe to e, in the order of eps.
func Targets(e *slotwire.Event, eps []*slotwire.Endpoint) []*slotwire.Endpoint {
	var out []*slotwire.Endpoint
	for _, ep := range eps {
		if ep.Enabled && ep.TenantID == e.TenantID && ep.Subscribes(e.Type) && ep.AcceptsSource(e.Source) && ep.AcceptsOffset(e) {
			out = append(out, ep)
		}
	}
	return out
}

// Fill sets the Targets of each item (none leased) from the enabled
// endpoints of the items' tenants, read once per tenant from src.
func Fill(ctx context.Context, src store.Endpoints, items []*store.IngestItem) error {
	byTenant := map[string][]*slotwire.Endpoint{}
	for _, it := range items {
		e := it.Event
		eps, ok := byTenant[e.TenantID]
		if !ok {
			var err error
			if eps, err = src.EnabledEndpoints(ctx, e.TenantID); err != nil {
				return fmt.Errorf("fan-out: %w", err)
			}
			byTenant[e.TenantID] = eps
		}
		it.Targets = it.Targets[:0]
		for _, ep := range Targets(e, eps) {
			it.Targets = append(it.Targets, store.Target{Endpoint: ep})
		}
	}
	return nil
}
