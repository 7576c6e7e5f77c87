package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
)

// underEndpointCap refuses a new endpoint when the tenant has as many as
// its plan allows (read fresh: a plan change applies at once), or as the
// node allows (--max-endpoints-per-tenant): one publish must not fan out
// to an unbounded number of receivers.
func (s *Server) underEndpointCap(r *http.Request, tenantID string) error {
	t, err := s.cfg.Store.GetTenant(r.Context(), tenantID)
	if err != nil {
		return err
	}
	n, err := s.cfg.Store.CountEndpoints(r.Context(), tenantID)
	if err != nil {
		return err
	}
	if err := s.cfg.Plans.AllowsEndpoint(t.Plan, n); err != nil {
		return err
	}
	if max := s.cfg.MaxEndpointsPerTenant; max > 0 && n >= max {
		return errorf(slotwire.ECodeEndpointLimit, "this tenant has %d endpoints, the most this server allows (%d); delete one first", n, max)
	}
	return nil
}

// rateLimiter is a token bucket per tenant: rate events a second, bursts
// of one second's worth.
type rateLimiter struct {
	rate    float64
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// take spends n tokens of the tenant's bucket; when there are not enough
// it spends nothing and says how long until there will be.
func (l *rateLimiter) take(tenantID string, n int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[tenantID]
	if b == nil {
		b = &bucket{tokens: l.rate, at: now}
		l.buckets[tenantID] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		return true, 0
	}
	return false, time.Duration((float64(n) - b.tokens) / l.rate * float64(time.Second))
}

// allowPublish applies --tenant-events-per-second to n events; on refusal
// it sets Retry-After.
func (s *Server) allowPublish(w http.ResponseWriter, tenantID string, n int) error {
	if s.limiter == nil {
		return nil
	}
	if n > int(s.limiter.rate) {
		return errorf(slotwire.ECodeRateLimited, "%d events at once is more than this tenant's limit of %d events per second", n, int(s.limiter.rate))
	}
	ok, wait := s.limiter.take(tenantID, n, s.cfg.Now())
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
	return errorf(slotwire.ECodeRateLimited, "this tenant publishes more than %d events per second; retry later", int(s.limiter.rate))
}
