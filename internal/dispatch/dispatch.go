// Package dispatch is Slotwire's delivery engine. Every endpoint with work
// has a lane: its own queue, its own concurrency bound, optional FIFO order
// and rate limit, so a slow or failing receiver only ever uses its own share.
// A global bound caps the requests in flight on this node. Work comes from
// the ingester directly (already leased) or is claimed from the database
// under a lease; outcomes are written back in batches (group commit), never
// while a transaction is held open across a network call.
package dispatch

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/store"
)

// DefaultSchedule is the delay before each attempt: the first is immediate,
// then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (8 attempts).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

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
	// Jitter spreads retry delays by ± this fraction (default 0.1).
	Jitter float64
	// Concurrency is the default per-endpoint bound (default 8).
	Concurrency int
	// MaxInflight bounds requests in flight on this node (default 512).
	MaxInflight int
	// Lease is how long claimed work belongs to this node (default 2 min).
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
	// OutcomeBuffer is how many finished requests may wait for the
	// recorder (default 8192).
	OutcomeBuffer int
	// SharedLimits makes each endpoint's concurrency bound and rate limit
	// hold across every node on the database: a node leases send slots of
	// an endpoint from the store and sends at most that many at once.
	SharedLimits bool
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

// Dispatcher delivers webhooks.
type Dispatcher struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	global chan struct{}

	mu    sync.Mutex
	lanes map[string]*lane

	outcomes chan *result

	ctx      context.Context // cancelled by Stop: no new work
	cancel   context.CancelFunc
	sendCtx  context.Context // cancelled when the drain time is over
	sendStop context.CancelFunc
	sends    sync.WaitGroup
	loops    sync.WaitGroup
	recDone  chan struct{}
	stopOnce sync.Once
	release  func() // of the maintenance lock, when held (poller only)
}

type result struct {
	job     *store.Job
	outcome store.Outcome
	lane    *lane
	fifo    bool
}

// New returns a dispatcher; call Start to run it.
func New(cfg Config) *Dispatcher {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Guard == nil {
		cfg.Guard = &netguard.Guard{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = 0.1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 512
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Lease < 2*cfg.Timeout {
		cfg.Lease = 2*cfg.Timeout + 10*time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.OutcomeBuffer <= 0 {
		cfg.OutcomeBuffer = 8192
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.Owner == "" {
		cfg.Owner = slotwire.NewID("node_")
	}
	tr := cfg.Transport
	if tr == nil {
		tr = &http.Transport{
			DialContext:           cfg.Guard.Dialer(10 * time.Second).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		}
	}
	d := &Dispatcher{
		cfg: cfg, log: cfg.Logger,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not a hop
		}},
		global:   make(chan struct{}, cfg.MaxInflight),
		lanes:    map[string]*lane{},
		outcomes: make(chan *result, cfg.OutcomeBuffer),
		recDone:  make(chan struct{}),
	}
	return d
}

// Owner is this node's lease owner name.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// LeaseUntil is the lease end for work taken at now.
func (d *Dispatcher) LeaseUntil(now time.Time) time.Time { return now.Add(d.cfg.Lease) }

// Start takes back this owner's old leases and starts the loops.
func (d *Dispatcher) Start(ctx context.Context) error {
	base := context.WithoutCancel(ctx)
	d.ctx, d.cancel = context.WithCancel(base)
	d.sendCtx, d.sendStop = context.WithCancel(base)
	if n, err := d.cfg.Store.Release(ctx, d.cfg.Owner, nil, d.cfg.Now()); err != nil {
		return err
	} else if n > 0 {
		d.log.Info("took back leases of a previous run", "deliveries", n)
	}
	go d.recorder(base)
	d.loops.Add(1)
	go d.poller()
	if n := d.cfg.Store.Capabilities().Notifier; n != nil {
		ch, err := n.ListenWork(d.ctx)
		if err != nil {
			d.log.Warn("listen for work failed; polling only", "err", err)
		} else {
			d.loops.Add(1)
			go func() {
				defer d.loops.Done()
				for id := range ch {
					d.wakeLocal(id)
				}
			}()
		}
	}
	return nil
}

// Stop stops taking work, waits (bounded) for requests in flight, records
// their outcomes, and returns unsent leased work to the queue.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		d.cancel()
		d.mu.Unlock()
		d.loops.Wait()
		drained := make(chan struct{})
		go func() { d.sends.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(d.cfg.DrainTimeout):
			d.log.Warn("drain timeout: abandoning requests in flight; they will be retried")
			d.sendStop()
			<-drained
		}
		d.sendStop()
		close(d.outcomes)
		<-d.recDone
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n, err := d.cfg.Store.Release(ctx, d.cfg.Owner, nil, d.cfg.Now()); err != nil {
			d.log.Error("releasing leases", "err", err)
		} else if n > 0 {
			d.log.Info("returned unsent work to the queue", "deliveries", n)
		}
	})
}

// Wake tells lanes that endpoints have new pending work, here and, when the
// store can, on every other node.
func (d *Dispatcher) Wake(endpointIDs ...string) {
	for _, id := range endpointIDs {
		d.wakeLocal(id)
	}
	if n := d.cfg.Store.Capabilities().Notifier; n != nil && len(endpointIDs) > 0 {
		if err := n.NotifyWork(context.Background(), endpointIDs); err != nil {
			d.log.Warn("notify work", "err", err)
		}
	}
}

func (d *Dispatcher) wakeLocal(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx.Err() != nil {
		return
	}
	l := d.laneLocked(id)
	l.claimable = true
	l.kick()
}

func (d *Dispatcher) concurrency(ep *slotwire.Endpoint) int {
	if ep.MaxConcurrency > 0 {
		return ep.MaxConcurrency
	}
	return d.cfg.Concurrency
}

// laneLocked returns the lane of an endpoint, starting it if needed.
func (d *Dispatcher) laneLocked(id string) *lane {
	l, ok := d.lanes[id]
	if !ok {
		l = &lane{id: id, d: d, wake: make(chan struct{}, 1), claimable: true, conc: d.cfg.Concurrency}
		d.lanes[id] = l
		d.loops.Add(1)
		go l.run()
	}
	return l
}

// maintenanceLock names the lock that elects the node doing periodic
// maintenance (reclaiming expired leases) when several share a database.
const maintenanceLock = "slotwire:maintenance"

// leader reports whether this node does periodic maintenance: always on a
// store without locks (one node), else while it holds the lock, which
// moves to another node when this one dies.
func (d *Dispatcher) leader() bool {
	lk := d.cfg.Store.Capabilities().Locker
	if lk == nil || d.release != nil {
		return true
	}
	release, got, err := lk.TryLock(d.ctx, maintenanceLock)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Warn("maintenance lock", "err", err)
		}
		return false
	}
	if got {
		d.release = release
		d.log.Info("this node does periodic maintenance")
	}
	return got
}

func (d *Dispatcher) poller() {
	defer d.loops.Done()
	defer func() {
		if d.release != nil {
			d.release()
		}
	}()
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	reclaimEvery := d.cfg.Lease / 4
	lastReclaim := time.Time{}
	for {
		now := d.cfg.Now()
		if now.Sub(lastReclaim) >= reclaimEvery && d.leader() {
			lastReclaim = now
			if n, err := d.cfg.Store.ReclaimExpired(d.ctx, now); err != nil && d.ctx.Err() == nil {
				d.log.Error("reclaim expired leases", "err", err)
			} else if n > 0 {
				d.log.Info("reclaimed expired leases", "deliveries", n)
			}
		}
		due, err := d.cfg.Store.DueEndpoints(d.ctx)
		if err != nil && d.ctx.Err() == nil {
			d.log.Error("poll due work", "err", err)
		}
		for _, e := range due {
			if !e.NextAt.After(now.Add(d.cfg.PollInterval)) {
				d.wakeLocal(e.EndpointID)
			}
		}
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recorder writes outcomes in batches and then tells the lanes.
func (d *Dispatcher) recorder(ctx context.Context) {
	defer close(d.recDone)
	batch := make([]*result, 0, 1024)
	outcomes := make([]store.Outcome, 0, 1024)
	for {
		r, ok := <-d.outcomes
		if !ok {
			return
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-d.outcomes:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		outcomes = outcomes[:0]
		for _, r := range batch {
			outcomes = append(outcomes, r.outcome)
		}
		var trans []store.EndpointTransition
		for try := 0; ; try++ {
			var err error
			trans, err = d.cfg.Store.Complete(ctx, outcomes, d.cfg.Now(), d.cfg.DisableAfter)
			if err == nil {
				break
			}
			d.log.Error("recording outcomes failed; retrying", "outcomes", len(outcomes), "try", try, "err", err)
			if try >= 20 {
				// The leases will expire and the deliveries be retried.
				break
			}
			time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
		}
		d.mu.Lock()
		for _, r := range batch {
			r.lane.recorded(r)
		}
		d.mu.Unlock()
		for _, t := range trans {
			d.log.Info("endpoint "+t.Kind, "endpoint", t.EndpointID, "reason", t.Reason)
			if t.Kind == store.TransitionDisabled {
				d.dropQueued(t.EndpointID)
			}
			if d.cfg.OnTransition != nil {
				d.cfg.OnTransition(t)
			}
		}
	}
}

// dropQueued returns a disabled endpoint's queued jobs to the database.
func (d *Dispatcher) dropQueued(id string) {
	d.mu.Lock()
	l, ok := d.lanes[id]
	var ids []string
	if ok {
		for _, q := range l.queue {
			ids = append(ids, q.job.Delivery.ID)
		}
		l.queue = nil
	}
	d.mu.Unlock()
	if len(ids) > 0 {
		if _, err := d.cfg.Store.Release(context.Background(), d.cfg.Owner, ids, d.cfg.Now()); err != nil {
			d.log.Error("release jobs of disabled endpoint", "err", err)
		}
	}
}

// nextDelay returns the delay before attempt number n+1 after n attempts,
// or false when the schedule is exhausted.
func (d *Dispatcher) nextDelay(attempts int, harder bool, retryAfter time.Duration) (time.Duration, bool) {
	if attempts >= len(d.cfg.Schedule) {
		return 0, false
	}
	delay := d.cfg.Schedule[attempts]
	if harder {
		delay *= 2
	}
	if d.cfg.Jitter > 0 && delay > 0 {
		f := 1 + d.cfg.Jitter*(2*rand.Float64()-1)
		delay = time.Duration(float64(delay) * f)
	}
	if retryAfter > delay {
		delay = retryAfter
	}
	return delay, true
}
