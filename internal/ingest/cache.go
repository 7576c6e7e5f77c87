package ingest

import (
	"context"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
)

// maxCachedTenants bounds the endpoint cache; past it an arbitrary tenant
// is forgotten for each new one.
const maxCachedTenants = 4096

// endpointCache remembers each tenant's enabled endpoints with the
// configuration version they were read at, so that the fan-out of a
// batch reads nothing from the database: the store checks the versions in
// the transaction that stores the batch (store.IngestBatch.Versions), and
// when a tenant's endpoints changed meanwhile the batch is fanned out
// again from the database. Only the ingester's loop uses it: no lock.
type endpointCache struct {
	m map[string]cachedEndpoints
}

type cachedEndpoints struct {
	eps     []*slotwire.Endpoint
	version int64
}

func newEndpointCache() *endpointCache {
	return &endpointCache{m: map[string]cachedEndpoints{}}
}

// fill sets the items' targets (none leased). Tenants in the cache are
// fanned out from it and their versions returned, for the store to check;
// the others are read (version first, so that a change made between the
// two reads shows as a newer version at the check) and remembered.
func (c *endpointCache) fill(ctx context.Context, src store.Endpoints, items []*store.IngestItem) (map[string]int64, error) {
	var versions map[string]int64
	fresh := map[string]bool{}
	for _, it := range items {
		tenant := it.Event.TenantID
		ce, ok := c.m[tenant]
		switch {
		case ok && !fresh[tenant]:
			if versions == nil {
				versions = map[string]int64{}
			}
			versions[tenant] = ce.version
		case !ok:
			var err error
			if ce, err = c.read(ctx, src, tenant); err != nil {
				return nil, err
			}
			fresh[tenant] = true
		}
		it.Targets = it.Targets[:0]
		for _, ep := range fanout.Targets(it.Event, ce.eps) {
			it.Targets = append(it.Targets, store.Target{Endpoint: ep})
		}
	}
	return versions, nil
}

func (c *endpointCache) read(ctx context.Context, src store.Endpoints, tenant string) (cachedEndpoints, error) {
	v, err := src.EndpointsVersion(ctx, tenant)
	if err != nil {
		return cachedEndpoints{}, fmt.Errorf("fan-out: %w", err)
	}
	eps, err := src.EnabledEndpoints(ctx, tenant)
	if err != nil {
		return cachedEndpoints{}, fmt.Errorf("fan-out: %w", err)
	}
	if len(c.m) >= maxCachedTenants {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	ce := cachedEndpoints{eps: eps, version: v}
	c.m[tenant] = ce
	return ce, nil
}

// forget drops tenants from the cache.
func (c *endpointCache) forget(versions map[string]int64) {
	for t := range versions {
		delete(c.m, t)
	}
}
