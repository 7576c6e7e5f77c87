package dispatch

import (
	"sync"
	"sync/atomic"
)

// tenantShares splits the node's in-flight bound between tenants first,
// then between each tenant's lanes, so that one tenant's hung endpoints
// take at most its own share: a tenant with work may have at most
// MaxInflight / (tenants + 1) requests in flight, which always leaves a
// share free for a tenant whose work arrives next, and each of its lanes
// gets an equal part of that.
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

// laneShare is how many requests one lane of t may have in flight out of
// bound.
func (s *tenantShares) laneShare(t *tenantLoad, bound int) int {
	tenants := max(1, int(s.count.Load()))
	perTenant := max(1, bound/(tenants+1))
	return max(1, perTenant/max(1, int(t.lanes.Load())))
}
