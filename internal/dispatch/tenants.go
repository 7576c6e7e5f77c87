package dispatch

import (
	"sync"
	"sync/atomic"
)

// tenantShares splits the node's in-flight bound between tenants first,
// then between each tenant's lanes, so that one tenant's hung endpoints
// take at most its own share: an eighth of MaxInflight is kept free for a
// tenant whose work arrives next, the rest is split equally between the
// tenants with work, and each of a tenant's lanes gets an equal part of
// its tenant's share.
//
// Its lock is taken last (after the registry's and a lane's) and held
// briefly; the lanes read the counts without it.
type tenantShares struct {
	mu      sync.Mutex
	tenants map[string]*tenantLoad
	count   atomic.Int32
}

// tenantLoad counts one tenant's lanes on this node.
type tenantLoad struct {
	lanes atomic.Int32
}

// join counts one more lane of the tenant.
func (s *tenantShares) join(tenant string) *tenantLoad {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tenants == nil {
		s.tenants = map[string]*tenantLoad{}
	}
	t := s.tenants[tenant]
	if t == nil {
		t = &tenantLoad{}
		s.tenants[tenant] = t
		s.count.Store(int32(len(s.tenants)))
	}
	t.lanes.Add(1)
	return t
}

// leave counts one lane of the tenant less.
func (s *tenantShares) leave(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	if t == nil {
		return
	}
	if t.lanes.Add(-1) <= 0 {
		delete(s.tenants, tenant)
		s.count.Store(int32(len(s.tenants)))
	}
}

// reserveDiv: 1/reserveDiv of the bound is kept free for tenants whose
// work arrives next; the rest is split between the tenants with work.
const reserveDiv = 8

// laneShare is how many requests one lane of t may have in flight out of
// bound.
func (s *tenantShares) laneShare(t *tenantLoad, bound int) int {
	tenants := max(1, int(s.count.Load()))
	perTenant := max(1, (bound-bound/reserveDiv)/tenants)
	return max(1, perTenant/max(1, int(t.lanes.Load())))
}
