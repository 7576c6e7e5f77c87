// Package dispatch is Slotwire's delivery engine. Every endpoint with work
// has a lane (lane.go): its own queue, its own concurrency bound, optional
// FIFO order and rate limit, so a slow or failing receiver only ever uses
// its own share. A global bound caps the requests in flight on this node.
//
// Work comes from the ingester directly, already leased, through a
// Reservation (reservation.go), or is claimed from the database under a
// lease. Each request (send.go) ends in an outcome decided by
// internal/retrypolicy and written in batches by internal/completer, never
// while a transaction is held open across a network call. Expired leases
// are reclaimed by internal/maintenance on the elected node.
package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotwire/slotwire/internal/completer"
	"github.com/slotwire/slotwire/internal/maintenance"
	"github.com/slotwire/slotwire/internal/retrypolicy"
	"github.com/slotwire/slotwire/internal/store"
)

// Dispatcher delivers webhooks.
type Dispatcher struct {
	cfg       Config
	log       *slog.Logger
	sender    *sender
	policy    retrypolicy.Policy
	global    chan struct{} // one token per request in flight on this node
	completer *completer.Completer
	maint     *maintenance.Service

	// mu guards the lane registry and the start of the dispatcher's life;
	// each lane guards its own state.
	mu     sync.RWMutex
	lanes  map[string]*lane
	nlanes atomic.Int32 // len(lanes), for the lanes' fair shares
	shares tenantShares // the bound split by tenant, then by lane

	ctx      context.Context // cancelled by Stop: no new work
	cancel   context.CancelFunc
	sendCtx  context.Context // cancelled when the drain time is over
	sendStop context.CancelFunc
	sends    sync.WaitGroup
	loops    sync.WaitGroup // the poller, the listener and the lanes
	stopOnce sync.Once
}

// New returns a dispatcher; call Start to run it.
func New(cfg Config) *Dispatcher {
	cfg = cfg.withDefaults()
	d := &Dispatcher{
		cfg:    cfg,
		log:    cfg.Logger,
		sender: newSender(&cfg),
		policy: retrypolicy.Policy{Schedule: cfg.Schedule, Jitter: cfg.Jitter},
		global: make(chan struct{}, cfg.MaxInflight),
		lanes:  map[string]*lane{},
	}
	d.completer = completer.New(completer.Config{
		Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now, DisableAfter: cfg.DisableAfter,
		Buffer: cfg.OutcomeBuffer, OnTransition: d.transition,
	})
	d.maint = maintenance.New(maintenance.Config{
		Store: cfg.Store, Locker: cfg.Store.Capabilities().Locker, Logger: cfg.Logger, Now: cfg.Now,
		Interval: cfg.Lease / 4, ElectInterval: cfg.PollInterval,
		Retention: cfg.Retention, DeleteAfter: cfg.DeleteAfter, OnRetention: cfg.OnRetention,
	})
	return d
}

// Owner is this node's lease owner name.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// LeaseUntil is the lease end for work taken at now.
func (d *Dispatcher) LeaseUntil(now time.Time) time.Time { return now.Add(d.cfg.Lease) }

// Start takes back this owner's old leases and starts the loops.
func (d *Dispatcher) Start(ctx context.Context) error {
	if n, err := d.cfg.Store.Release(ctx, d.cfg.Owner, nil, d.cfg.Now()); err != nil {
		return err
	} else if n > 0 {
		d.log.Info("took back leases of a previous run", "deliveries", n)
	}
	base := context.WithoutCancel(ctx)
	d.mu.Lock()
	d.ctx, d.cancel = context.WithCancel(base)
	d.sendCtx, d.sendStop = context.WithCancel(base)
	d.mu.Unlock()
	d.completer.Start(base)
	d.maint.Start(base)
	d.loops.Add(1)
	go d.poll()
	d.listen()
	return nil
}

// Stop stops taking work, waits (bounded) for requests in flight, records
// their outcomes, and returns unsent leased work to the queue.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		started := d.cancel != nil
		if started {
			d.cancel()
		}
		d.mu.Unlock()
		if !started {
			return
		}
		d.maint.Stop()
		d.loops.Wait()
		d.drain()
		d.sender.closeIdle()
		d.completer.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n, err := d.cfg.Store.Release(ctx, d.cfg.Owner, nil, d.cfg.Now()); err != nil {
			d.log.Error("releasing leases", "err", err)
		} else if n > 0 {
			d.log.Info("returned unsent work to the queue", "deliveries", n)
		}
	})
}

// drain waits for the requests in flight, abandoning them after the
// drain timeout (their deliveries will be retried).
func (d *Dispatcher) drain() {
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
}

// running reports whether the dispatcher takes work: started, not stopped.
func (d *Dispatcher) running() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.ctx != nil && d.ctx.Err() == nil
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
	d.withLane(id, true, func(l *lane) {
		l.claimable = true
		l.kick()
	})
}

// listen wakes lanes on work announced by other nodes, when the store
// can tell.
func (d *Dispatcher) listen() {
	n := d.cfg.Store.Capabilities().Notifier
	if n == nil {
		return
	}
	ch, err := n.ListenWork(d.ctx)
	if err != nil {
		d.log.Warn("listen for work failed; polling only", "err", err)
		return
	}
	d.loops.Add(1)
	go func() {
		defer d.loops.Done()
		for id := range ch {
			d.wakeLocal(id)
		}
	}()
}

// poll wakes the lanes of endpoints with due work in the database (new
// work of other nodes without notifications, retries coming due).
func (d *Dispatcher) poll() {
	defer d.loops.Done()
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	for {
		d.wakeDue()
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) wakeDue() {
	now := d.cfg.Now()
	due, err := d.cfg.Store.DueEndpoints(d.ctx)
	if err != nil && d.ctx.Err() == nil {
		d.log.Error("poll due work", "err", err)
	}
	for _, e := range due {
		if !e.NextAt.After(now.Add(d.cfg.PollInterval)) {
			d.wakeLocal(e.EndpointID)
		}
	}
}

// lane returns the endpoint's lane, starting one (claimable as given)
// when there is none; nil once the dispatcher stops.
func (d *Dispatcher) lane(id string, claimable bool) *lane {
	d.mu.RLock()
	l := d.lanes[id]
	d.mu.RUnlock()
	if l != nil {
		return l
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.ctx.Err() != nil {
		return nil
	}
	if l = d.lanes[id]; l == nil {
		l = newLane(d, id, claimable)
		d.lanes[id] = l
		d.nlanes.Store(int32(len(d.lanes)))
		d.loops.Add(1)
		go l.run()
	}
	return l
}

// withLane runs fn on the endpoint's lane, under the lane's lock, starting
// the lane if needed. It reports false once the dispatcher stops.
func (d *Dispatcher) withLane(id string, claimable bool, fn func(*lane)) bool {
	for {
		l := d.lane(id, claimable)
		if l == nil {
			return false
		}
		l.mu.Lock()
		if !l.retired {
			fn(l)
			l.mu.Unlock()
			return true
		}
		// It just ended and left the registry: start another.
		l.mu.Unlock()
	}
}

// lookup returns the endpoint's lane if it has one.
func (d *Dispatcher) lookup(id string) *lane {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.lanes[id]
}

// retire removes a lane from the registry if it is idle, or whatever its
// state when force is set (stopping). It reports whether it did.
func (d *Dispatcher) retire(l *lane, force bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force && !l.idleLocked() {
		return false
	}
	l.retired = true
	if d.lanes[l.id] == l {
		delete(d.lanes, l.id)
		d.nlanes.Store(int32(len(d.lanes)))
	}
	if l.tenant != nil {
		d.shares.leave(l.tenantID)
		l.tenant = nil
	}
	return true
}

// laneCount is how many lanes share the node's bounds.
// InFlight is how many requests this node is sending now.
func (d *Dispatcher) InFlight() int { return len(d.global) }

func (d *Dispatcher) laneCount() int { return max(1, int(d.nlanes.Load())) }

// transition reacts to an endpoint disabled, deleted (a REST hook) or
// recovered by recorded outcomes.
func (d *Dispatcher) transition(t store.EndpointTransition) {
	if t.Kind == store.TransitionDisabled || t.Kind == store.TransitionDeleted {
		d.dropQueued(t.EndpointID) // a deleted endpoint's rows are gone: releasing them is a no-op
	}
	if d.cfg.OnTransition != nil {
		d.cfg.OnTransition(t)
	}
}

// dropQueued returns a disabled endpoint's queued jobs to the database.
func (d *Dispatcher) dropQueued(id string) {
	l := d.lookup(id)
	if l == nil {
		return
	}
	ids := l.dropQueue()
	if len(ids) > 0 {
		if _, err := d.cfg.Store.Release(context.Background(), d.cfg.Owner, ids, d.cfg.Now()); err != nil {
			d.log.Error("release jobs of disabled endpoint", "err", err)
		}
	}
}
