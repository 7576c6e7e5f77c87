package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// laneIdle is how long an idle lane waits for more work before ending.
const laneIdle = 5 * time.Second

// maxWindow bounds the deliveries one lane holds leased in memory; all
// lanes together hold at most 64 x MaxInflight beyond their floors.
const maxWindow = 512

type queued struct {
	job        *store.Job
	leaseUntil time.Time
}

// lane serves one endpoint: it claims the endpoint's due work, holds it in
// a queue and starts requests while under the endpoint's bounds. Its
// state is guarded by its own mu; the dispatcher only registers lanes,
// and shares the node's global bound among them.
type lane struct {
	id   string
	d    *Dispatcher // the registry: retire, laneCount, startSend, loops
	cfg  *Config     // read-only
	ctx  context.Context
	log  *slog.Logger
	wake chan struct{}

	mu        sync.Mutex
	retired   bool // left the registry; a new lane serves the endpoint
	queue     []queued
	reserved  int // deliveries being created for this lane by the ingester
	inflight  int
	claimable bool   // the database may hold due work
	wakeGen   uint64 // bumped on every wake, to not lose one during a claim
	fifo      bool
	conc      int
	rate      int
	nextSend  time.Time
	// latency is a moving average of request durations; it sizes the
	// window of work the lane holds leased in memory.
	latency time.Duration
	// idleSince is when the lane ran out of work; it ends after laneIdle.
	idleSince time.Time
	// slots are the endpoint's send slots this node holds (SharedLimits),
	// renewed at slotsRenew.
	slots      int
	slotsRenew time.Time
	// tenant is the endpoint's tenant's load, counted from the first job
	// (or reservation) that names it until the lane retires.
	tenantID string
	tenant   *tenantLoad
}

func newLane(d *Dispatcher, id string, claimable bool) *lane {
	return &lane{id: id, d: d, cfg: &d.cfg, ctx: d.ctx, log: d.log, wake: make(chan struct{}, 1),
		claimable: claimable, conc: d.cfg.Concurrency}
}

// run is the lane's loop: claim when empty, start requests while under
// the bounds, sleep until woken. It ends when the lane has had nothing to
// do for a while, or when the dispatcher stops.
func (l *lane) run() {
	defer l.d.loops.Done()
	defer l.releaseSlots()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if l.ctx.Err() != nil {
			l.d.retire(l, true)
			return
		}
		renewIn := l.renewSlots()
		wait := l.claim()
		wait, next := l.step(wait)
		switch next {
		case stepClaim:
			continue
		case stepRetire:
			if l.d.retire(l, false) {
				return
			}
			continue
		}
		l.sleep(timer, earliest(wait, renewIn))
	}
}

type stepNext int

const (
	stepSleep  stepNext = iota // until woken or the wait is over
	stepClaim                  // claim again at once
	stepRetire                 // idle long enough: end
)

// step starts what requests it may and says what the loop does next and,
// for stepSleep, for how long at most (negative: until woken).
func (l *lane) step(wait time.Duration) (time.Duration, stepNext) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	wait = earliest(wait, l.startSendsLocked(now))
	if l.idleLocked() {
		if l.idleSince.IsZero() {
			l.idleSince = now
		}
		if now.Sub(l.idleSince) >= laneIdle {
			return 0, stepRetire
		}
		if wait < 0 || wait > laneIdle {
			wait = laneIdle
		}
	} else {
		l.idleSince = time.Time{}
	}
	if wait < 0 && l.needsClaimLocked() {
		return 0, stepClaim
	}
	return wait, stepSleep
}

// sleep waits for a wake, the wait (when not negative) or the stop.
func (l *lane) sleep(timer *time.Timer, wait time.Duration) {
	if wait >= 0 {
		timer.Reset(wait)
		defer timer.Stop()
	}
	select {
	case <-l.wake:
	case <-timer.C:
	case <-l.ctx.Done():
	}
}

// earliest is the shorter of two waits, ignoring negative ones (none).
func earliest(a, b time.Duration) time.Duration {
	switch {
	case a < 0:
		return b
	case b < 0:
		return a
	}
	return min(a, b)
}

// claim leases due work from the database when the lane has none. It
// returns how long to wait before trying again after an error, else -1.
func (l *lane) claim() time.Duration {
	l.mu.Lock()
	need := l.needsClaimLocked()
	limit := l.window() - l.load()
	gen, fifo := l.wakeGen, l.fifo
	l.mu.Unlock()
	if !need {
		return -1
	}
	now := l.cfg.Now()
	leaseUntil := now.Add(l.cfg.Lease)
	jobs, err := l.cfg.Store.Claim(l.ctx, store.ClaimRequest{
		EndpointID: l.id, Owner: l.cfg.Owner, Now: now, LeaseUntil: leaseUntil, Limit: limit, FIFO: fifo,
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if l.ctx.Err() == nil {
			l.log.Error("claim failed", "endpoint", l.id, "err", err)
		}
		return l.cfg.PollInterval
	}
	l.enqueueLocked(jobs, leaseUntil)
	if len(jobs) < limit && l.wakeGen == gen {
		l.claimable = false // nothing more until the next wake
	}
	return -1
}

// enqueueLocked adds leased jobs to the queue.
func (l *lane) enqueueLocked(jobs []*store.Job, leaseUntil time.Time) {
	if len(jobs) > 0 {
		l.setEndpoint(&jobs[len(jobs)-1].Endpoint)
	}
	for _, j := range jobs {
		l.queue = append(l.queue, queued{job: j, leaseUntil: leaseUntil})
	}
}

// startSendsLocked starts requests from the queue while the bounds allow.
// It returns how long until the rate limit allows the next one, else -1.
func (l *lane) startSendsLocked(now time.Time) time.Duration {
	for len(l.queue) > 0 && l.inflight < l.limit() {
		if l.rate > 0 && now.Before(l.nextSend) {
			return l.nextSend.Sub(now)
		}
		q := l.queue[0]
		l.queue[0] = queued{}
		l.queue = l.queue[1:]
		if now.Add(l.cfg.Timeout).After(q.leaseUntil) {
			// Too late to finish inside the lease: leave it to the
			// reclaimer rather than risk two nodes sending it.
			continue
		}
		if l.rate > 0 {
			l.nextSend = later(l.nextSend, now).Add(l.sendInterval())
		}
		l.inflight++
		l.d.startSend(l, q.job, l.fifo)
	}
	return -1
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (l *lane) needsClaimLocked() bool {
	return l.claimable && len(l.queue) == 0 && l.reserved == 0 && l.inflight < l.limit()
}

func (l *lane) idleLocked() bool { return l.load() == 0 && !l.claimable }

func (l *lane) load() int { return len(l.queue) + l.reserved + l.inflight }

// kick wakes the lane's loop; called under mu.
func (l *lane) kick() {
	l.wakeGen++
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// window is how many deliveries the lane may hold (queued, reserved or in
// flight): enough to keep a fast receiver busy for a quarter of the lease,
// never more than can be sent well inside the lease.
func (l *lane) window() int {
	// Sized on the lane's own bound and its share of the node, not on its
	// tenant's share: holding work leased costs no request in flight.
	lim := min(l.ownLimit(), max(1, l.cfg.MaxInflight/l.d.laneCount()))
	floor := 2 * lim
	w := floor
	if l.latency > 0 {
		budget := l.cfg.Lease / 4
		w = max(w, lim*int(budget/l.latency))
	}
	// All lanes together hold at most a few times the node's bound.
	share := 64 * l.cfg.MaxInflight / l.d.laneCount()
	return max(floor, min(w, maxWindow, share))
}

// ownLimit is the endpoint's own bound: its max_concurrency (1 if FIFO),
// or with SharedLimits the slots this node holds of it.
func (l *lane) ownLimit() int {
	n := l.conc
	if l.fifo {
		n = 1
	}
	if l.cfg.SharedLimits {
		n = min(n, l.slots)
	}
	return n
}

// limit is how many requests the lane may have in flight: its own bound,
// capped by its fair share of the node's bound.
func (l *lane) limit() int {
	n := l.ownLimit()
	// A fair share of the node's global bound, by tenant then by lane, so
	// that endpoints that hang cannot take it from other endpoints nor
	// from other tenants.
	if l.tenant != nil {
		return min(n, l.d.shares.laneShare(l.tenant, l.cfg.MaxInflight))
	}
	return min(n, max(1, l.cfg.MaxInflight/l.d.laneCount()))
}

// sendInterval is the spacing of requests under a rate limit: the whole
// rate on one node, this node's share of it with SharedLimits.
func (l *lane) sendInterval() time.Duration {
	if l.cfg.SharedLimits && l.slots > 0 {
		return time.Duration(float64(time.Second) * float64(l.conc) / (float64(l.rate) * float64(l.slots)))
	}
	return time.Second / time.Duration(l.rate)
}

func (l *lane) setEndpoint(ep *slotwire.Endpoint) {
	if l.tenant == nil && ep.TenantID != "" && !l.retired {
		l.tenantID, l.tenant = ep.TenantID, l.d.shares.join(ep.TenantID)
	}
	l.fifo = ep.Ordering == slotwire.OrderingFIFO
	l.conc = l.cfg.concurrency(ep)
	l.rate = ep.RateLimit
}

func (l *lane) observe(took time.Duration) {
	if l.latency == 0 {
		l.latency = took
		return
	}
	l.latency = (4*l.latency + took) / 5
}

// sent is told that a request finished and its outcome is queued for the
// recorder. A FIFO lane keeps its place until the outcome is recorded.
func (l *lane) sent(took time.Duration, fifo bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observe(took)
	if !fifo {
		l.inflight--
		l.kick()
	}
}

// recorded is told that a FIFO request's outcome is in the database: the
// next delivery in order may be claimed.
func (l *lane) recorded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	l.claimable = true
	l.kick()
}

// keyRecorded is told that a key-ordered request's outcome is in the
// database: the next delivery of its key may be claimed.
func (l *lane) keyRecorded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claimable = true
	l.kick()
}

// dropQueue empties the queue (the endpoint was disabled) and returns the
// delivery ids it held.
func (l *lane) dropQueue() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]string, 0, len(l.queue))
	for _, q := range l.queue {
		ids = append(ids, q.job.Delivery.ID)
	}
	l.queue = nil
	return ids
}

// renewSlots takes or renews this node's send slots of the endpoint when
// due (SharedLimits). It returns how long until it should run again
// (-1: no slots wanted).
func (l *lane) renewSlots() time.Duration {
	if !l.cfg.SharedLimits {
		return -1
	}
	l.mu.Lock()
	active := l.load() > 0 || l.claimable
	want := min(l.conc, max(1, l.load()))
	if l.fifo {
		want = 1
	}
	maxSlots, held, renewAt := l.conc, l.slots, l.slotsRenew
	l.mu.Unlock()
	now := l.cfg.Now()
	due := now.After(renewAt) || (held < want && now.After(renewAt.Add(-l.cfg.Lease/3+l.cfg.PollInterval)))
	if !active {
		return -1
	}
	if !due {
		return renewAt.Sub(now)
	}
	n, err := l.cfg.Store.AcquireSlots(l.ctx, l.id, l.cfg.Owner, want, maxSlots, now, now.Add(l.cfg.Lease))
	if err != nil {
		if l.ctx.Err() == nil {
			l.log.Error("acquire send slots", "endpoint", l.id, "err", err)
		}
		return l.cfg.PollInterval
	}
	l.mu.Lock()
	l.slots, l.slotsRenew = n, now.Add(l.cfg.Lease/3)
	l.mu.Unlock()
	if n == 0 {
		return l.cfg.PollInterval
	}
	return l.cfg.Lease / 3
}

// releaseSlots gives back the endpoint's send slots when the lane ends.
func (l *lane) releaseSlots() {
	if !l.cfg.SharedLimits {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.cfg.Store.ReleaseSlots(ctx, l.id, l.cfg.Owner); err != nil {
		l.log.Warn("release send slots", "endpoint", l.id, "err", err)
	}
}
