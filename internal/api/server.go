// Package api is Slotwire's HTTP API: thin handlers over the store, the
// ingester and the dispatcher. Routes use net/http ServeMux patterns.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/heartbeat"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/tracing"
)

// Publisher stores events durably (see package ingest).
type Publisher interface {
	// Publish returns once the event is committed (or known from its
	// idempotency key: then Duplicate is set and ID is the first event's
	// id).
	Publish(ctx context.Context, e *slotwire.Event) (ingest.Result, error)
	// PublishBatch stores the events in one transaction and returns their
	// results in order.
	PublishBatch(ctx context.Context, events []*slotwire.Event) ([]ingest.Result, error)
}

// Waker is told about endpoints that have new pending deliveries.
type Waker interface {
	Wake(endpointIDs ...string)
}

// EventValidator checks the data of an event type it knows (the scheduling
// catalog); it returns nil for types it does not know.
type EventValidator func(eventType string, data []byte) error

// Config of the API server.
type Config struct {
	Store      store.Store
	Publisher  Publisher
	Waker      Waker
	Guard      *netguard.Guard
	Logger     *slog.Logger
	AdminToken string
	// NodeInterval is the nodes' heartbeat interval: GET /v1/nodes shows a
	// node alive while its last heartbeat is at most three intervals old
	// (default heartbeat.DefaultInterval).
	NodeInterval time.Duration
	// MaxEventBytes bounds POST /v1/events bodies (default 256 KiB).
	MaxEventBytes int64
	// MaxEndpointsPerTenant caps a tenant's endpoints (0: no cap), whatever
	// its plan.
	MaxEndpointsPerTenant int
	// Plans are the tenant plans and their limits (default
	// plans.DefaultTable).
	Plans plans.Table
	// Scopes are the API key scopes (default: admin and custom only);
	// modules add theirs before the server serves.
	Scopes *scopes.Set
	// TenantEventsPerSecond limits each tenant's publishing on this node
	// (0: no limit); bursts of one second's worth are allowed.
	TenantEventsPerSecond int
	// ValidateEvent, if set, validates catalog event types.
	ValidateEvent EventValidator
	// Catalogs are the modules' built-in event types (none by default).
	Catalogs func() []Catalog
	// Sample gives the example data of an event type (GET
	// /v1/hooks/sample); modules with a catalog provide it.
	Sample SampleSource
	// Tester sends test events (POST /v1/endpoints/{id}/test).
	Tester EndpointTester
	// SMTP: the node has an SMTP server, so e-mail endpoints may be
	// created.
	SMTP bool
	// Tracer, when tracing is on, continues a publisher's trace from its
	// request's traceparent header.
	Tracer *tracing.Tracer
	// OffsetsChanged, when set, is told when an endpoint's offset was
	// set, changed or removed (the scheduling core moves its timers).
	OffsetsChanged func(ctx context.Context, tenantID string)
	// Erasers are the modules' parts of an erasure (POST /v1/erasures),
	// run in its transaction (none by default).
	Erasers func() []store.Eraser
	// PublicURL is the server's address as its users reach it
	// ("https://hooks.example.com"), for the links it hands out (portal
	// sessions); "" takes the request's scheme and host.
	PublicURL string
	Now       func() time.Time
}

// EndpointTester sends a test event, or a verification challenge, to an
// endpoint and reports the answer.
type EndpointTester interface {
	Test(ctx context.Context, ep *slotwire.Endpoint) slotwire.TestResult
	Verify(ctx context.Context, ep *slotwire.Endpoint) (bool, slotwire.TestResult)
}

// Server serves the API.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	// patterns are the registered routes, in order (Routes).
	patterns []string
	keys     keyCache
	// registry caches tenants' registered event types.
	registry registry
	// limiter applies TenantEventsPerSecond; nil when there is none.
	limiter *rateLimiter
	// closing is closed by EndWaits: the feed's long polls answer.
	closing   chan struct{}
	closeOnce sync.Once
}

// keyCache remembers authenticated API keys briefly, so a busy publisher
// does not cost a database read per request. Only publish routes use it:
// the ingest transaction refuses events of a key revoked meanwhile
// (ingest.WithKey), every other route reads the key afresh.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key     *slotwire.APIKey
	tenant  *slotwire.Tenant
	expires time.Time
}

const keyCacheTTL = 10 * time.Second

func (c *keyCache) get(hash string, now time.Time) (*slotwire.APIKey, *slotwire.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[hash]; ok && now.Before(e.expires) {
		return e.key, e.tenant
	}
	return nil, nil
}

func (c *keyCache) put(k *slotwire.APIKey, t *slotwire.Tenant, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedKey{}
	}
	c.m[k.Hash] = cachedKey{key: k, tenant: t, expires: now.Add(keyCacheTTL)}
}

// dropWhere forgets the keys for which gone holds: a key revoked on this
// node, the keys of a tenant whose settings changed.
func (c *keyCache) dropWhere(gone func(cachedKey) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if gone(e) {
			delete(c.m, h)
		}
	}
}

// drop forgets a key (revoked).
func (c *keyCache) drop(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

const maxJSONBody = 1 << 20

// New builds the server and registers its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = 256 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NodeInterval <= 0 {
		cfg.NodeInterval = heartbeat.DefaultInterval
	}
	if cfg.Guard == nil {
		cfg.Guard = &netguard.Guard{}
	}
	if cfg.Plans == nil {
		cfg.Plans = plans.Must(plans.DefaultTable)
	}
	if cfg.Scopes == nil {
		cfg.Scopes = scopes.New()
	}
	if cfg.Catalogs == nil {
		cfg.Catalogs = func() []Catalog { return nil }
	}
	if cfg.Erasers == nil {
		cfg.Erasers = func() []store.Eraser { return nil }
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), closing: make(chan struct{})}
	if cfg.TenantEventsPerSecond > 0 {
		s.limiter = &rateLimiter{rate: float64(cfg.TenantEventsPerSecond)}
	}
	s.routes()
	return s
}

var _ httpx.Router = (*Server)(nil)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// HandleTenant registers a route that needs a tenant API key; the handler
// finds the tenant with TenantFrom(r.Context()) and the key with
// httpx.KeyFrom. It makes *Server an httpx.Router, the interface modules
// register their routes with.
func (s *Server) HandleTenant(pattern string, h http.HandlerFunc) {
	s.handle(pattern, s.requireTenant(h, false))
}

// handlePublish registers a publish route: its key may come from the key
// cache, because the ingest transaction checks it again.
func (s *Server) handlePublish(pattern string, h http.HandlerFunc) {
	s.handle(pattern, s.requireTenant(h, true))
}

// handleFeed registers a route that takes a tenant key or the endpoint's
// feed token (feedAuth).
func (s *Server) handleFeed(pattern string, h http.HandlerFunc) {
	s.handle(pattern, s.feedAuth(h))
}

// HandleAdmin registers a route that needs the admin token.
func (s *Server) HandleAdmin(pattern string, h http.HandlerFunc) {
	s.handle(pattern, s.requireAdmin(h))
}

// Handle registers an unauthenticated route.
func (s *Server) Handle(pattern string, h http.Handler) { s.handle(pattern, h) }

// handle registers a route on the mux and remembers its pattern.
func (s *Server) handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Routes returns the patterns ("METHOD /path") of every route registered
// so far, the modules' included, in registration order.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

func (s *Server) requireTenant(h http.HandlerFunc, cached bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, p := withPrincipal(r); p != nil {
			if p.Tenant == nil {
				WriteError(w, errorf(slotwire.ECodeUnauthorized, "an operator acts on tenants through the admin routes"))
				return
			}
			h(w, r)
			return
		}
		secret := bearer(r)
		if secret == "" {
			WriteError(w, errorf(slotwire.ECodeUnauthorized, "send a tenant API key as 'Authorization: Bearer sk_...'"))
			return
		}
		k, t, err := s.authenticate(r.Context(), HashKey(secret), cached)
		switch {
		case slotwire.ErrorCode(err) == slotwire.ECodeNotFound:
			WriteError(w, errorf(slotwire.ECodeUnauthorized, "API key is not valid"))
		case err != nil:
			s.internal(w, r, err)
		default:
			h(w, r.WithContext(httpx.WithKey(httpx.WithTenant(r.Context(), t), k)))
		}
	})
}

// authenticate finds the key with that hash and its tenant, from the key
// cache when cached allows.
func (s *Server) authenticate(ctx context.Context, hash string, cached bool) (*slotwire.APIKey, *slotwire.Tenant, error) {
	now := time.Now()
	if cached {
		if k, t := s.keys.get(hash, now); k != nil {
			return k, t, nil
		}
	}
	k, t, err := s.cfg.Store.KeyByHash(ctx, hash)
	if err != nil {
		return nil, nil, err
	}
	k.Hash = hash
	s.keys.put(k, t, now)
	return k, t, nil
}

func (s *Server) requireAdmin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := principalFrom(r.Context()); p != nil {
			if !p.Operator {
				WriteError(w, errorf(slotwire.ECodeUnauthorized, "admin token is not valid"))
				return
			}
			h(w, r)
			return
		}
		if s.cfg.AdminToken == "" {
			WriteError(w, errorf(slotwire.ECodeUnauthorized, "admin API is off: start slotwire with --admin-token, or use `slotwire tenant create`"))
			return
		}
		if !constantTimeEqual(bearer(r), s.cfg.AdminToken) {
			WriteError(w, errorf(slotwire.ECodeUnauthorized, "admin token is not valid"))
			return
		}
		h(w, r)
	})
}

// Fail writes err; unexpected errors are logged and answered with a 500.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.Fail(w, r, s.log, err)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteError(w, err)
}
