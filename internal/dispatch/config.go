package dispatch

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/maintenance"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/retrypolicy"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/tracing"
)

// DefaultSchedule is the delay before each attempt (retrypolicy's).
var DefaultSchedule = retrypolicy.DefaultSchedule

// maxResponseHeaderBytes bounds a receiver's response headers: they are
// read and dropped, and must not take memory.
const maxResponseHeaderBytes = 64 << 10

// Config of a Dispatcher.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	Guard  *netguard.Guard
	// Owner names this node in leases; a restarted node with the same
	// owner takes its old leases back at once.
	Owner string
	Now   func() time.Time
	// Timeout of one request (default 15 s).
	Timeout time.Duration
	// Schedule of attempts (default DefaultSchedule); len is the number of
	// attempts.
	Schedule []time.Duration
	// Jitter spreads retry delays by ± this fraction (default 0.1;
	// negative: none).
	Jitter float64
	// Concurrency is the default per-endpoint bound (default 8).
	Concurrency int
	// MaxInflight bounds requests in flight on this node (default 512).
	MaxInflight int
	// Lease is how long claimed work belongs to this node (default 2 min,
	// at least twice the Timeout and 10 s).
	Lease time.Duration
	// PollInterval is how often the database is checked for due work
	// (default 1 s).
	PollInterval time.Duration
	// DisableAfter disables an endpoint whose every attempt failed for this
	// long (default 5 days; negative: never).
	DisableAfter time.Duration
	// DrainTimeout bounds how long Stop waits for requests in flight
	// (default 10 s).
	DrainTimeout time.Duration
	// OnTransition is told when an endpoint is disabled or recovers.
	OnTransition func(store.EndpointTransition)
	// Observe, when set, is told every attempt's outcome and how long it
	// took (metrics count with it). It must not block.
	Observe func(o store.Outcome, took time.Duration)
	// Retention and DeleteAfter are the retention periods the elected
	// node applies (internal/maintenance; 0: off); OnRetention is told
	// what each run did.
	Retention, DeleteAfter time.Duration
	OnRetention            func(maintenance.RetentionRun)
	// Tracer makes a span of every attempt (nil: tracing off).
	Tracer *tracing.Tracer
	// OutcomeBuffer is how many finished requests may wait for the
	// recorder (default 8192).
	OutcomeBuffer int
	// SharedLimits makes each endpoint's concurrency bound and rate limit
	// hold across every node on the database: a node leases send slots of
	// an endpoint from the store and sends at most that many at once.
	SharedLimits bool
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
	// Mail sends the deliveries of e-mail endpoints through the node's
	// SMTP server (nil: none; their attempts fail and are retried).
	Mail *mail.Sender
}

// withDefaults fills in what the caller left unset.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Guard == nil {
		cfg.Guard = &netguard.Guard{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Owner == "" {
		cfg.Owner = slotwire.NewID("node_")
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = retrypolicy.DefaultJitter
	}
	cfg.Concurrency = positive(cfg.Concurrency, 8)
	cfg.MaxInflight = positive(cfg.MaxInflight, 512)
	cfg.OutcomeBuffer = positive(cfg.OutcomeBuffer, 8192)
	cfg.Timeout = positive(cfg.Timeout, 15*time.Second)
	cfg.Lease = positive(cfg.Lease, 2*time.Minute)
	if cfg.Lease < 2*cfg.Timeout {
		cfg.Lease = 2*cfg.Timeout + 10*time.Second
	}
	cfg.PollInterval = positive(cfg.PollInterval, time.Second)
	cfg.DrainTimeout = positive(cfg.DrainTimeout, 10*time.Second)
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	return cfg
}

func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// concurrency is an endpoint's bound on requests in flight.
func (cfg *Config) concurrency(ep *slotwire.Endpoint) int {
	if ep.MaxConcurrency > 0 {
		return ep.MaxConcurrency
	}
	return cfg.Concurrency
}

// newClient returns the HTTP client of deliveries: through the guard's
// dialer, redirects not followed, response headers bounded.
func newClient(cfg *Config) *http.Client {
	tr := cfg.Transport
	if tr == nil {
		tr = &http.Transport{
			DialContext:            cfg.Guard.Dialer(10 * time.Second).DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           4096,
			MaxIdleConnsPerHost:    1024,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			DisableCompression:     true,
			MaxResponseHeaderBytes: maxResponseHeaderBytes,
		}
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is an answer, not a hop
	}}
}
