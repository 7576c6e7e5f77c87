package dispatch

import (
	"context"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

type queued struct {
	job        *store.Job
	leaseUntil time.Time
}

// lane serves one endpoint. Its fields are guarded by Dispatcher.mu.
type lane struct {
	id   string
	d    *Dispatcher
	wake chan struct{}

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
}

// laneIdle is how long an idle lane waits for more work before ending.
const laneIdle = 5 * time.Second

// maxWindow bounds the deliveries one lane holds leased in memory; all
// lanes together hold at most 64 x MaxInflight beyond their floors.
const maxWindow = 512

// window is how many deliveries the lane may hold (queued, reserved or in
// flight): enough to keep a fast receiver busy for a quarter of the lease,
// never more than can be sent well inside the lease.
func (l *lane) window() int {
	floor := 2 * l.limit()
	w := floor
	if l.latency > 0 {
		budget := l.d.cfg.Lease / 4
		if n := l.limit() * int(budget/l.latency); n > w {
			w = n
		}
	}
	// All lanes together hold at most a few times the node's bound.
	share := 64 * l.d.cfg.MaxInflight / max(1, len(l.d.lanes))
	return max(floor, min(w, maxWindow, share))
}

func (l *lane) observe(d time.Duration) {
	if l.latency == 0 {
		l.latency = d
		return
	}
	l.latency = (4*l.latency + d) / 5
}

func (l *lane) load() int { return len(l.queue) + l.reserved + l.inflight }

func (l *lane) kick() {
	l.wakeGen++
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) setEndpoint(ep *slotwire.Endpoint) {
	l.fifo = ep.Ordering == slotwire.OrderingFIFO
	l.conc = l.d.concurrency(ep)
	l.rate = ep.RateLimit
}

// limit is how many requests the lane may have in flight: the endpoint's
// bound, or with SharedLimits the slots this node holds of it.
func (l *lane) limit() int {
	n := l.conc
	if l.fifo {
		n = 1
	}
	if l.d.cfg.SharedLimits {
		n = min(n, l.slots)
	}
	// A fair share of the node's global bound, so that endpoints that
	// hang cannot take it all from the others.
	return min(n, max(1, l.d.cfg.MaxInflight/max(1, len(l.d.lanes))))
}

// sendInterval is the spacing of requests under a rate limit: the whole
// rate on one node, this node's share of it with SharedLimits.
func (l *lane) sendInterval() time.Duration {
	if l.d.cfg.SharedLimits && l.slots > 0 {
		return time.Duration(float64(time.Second) * float64(l.conc) / (float64(l.rate) * float64(l.slots)))
	}
	return time.Second / time.Duration(l.rate)
}

// renewSlots takes or renews this node's slots of the endpoint when due.
// It returns how long until it should run again (-1: no slots wanted).
func (l *lane) renewSlots() time.Duration {
	d := l.d
	d.mu.Lock()
	active := l.load() > 0 || l.claimable
	want := min(l.conc, max(1, l.load()))
	if l.fifo {
		want = 1
	}
	maxSlots, held := l.conc, l.slots
	now := d.cfg.Now()
	due := now.After(l.slotsRenew) || (held < want && now.After(l.slotsRenew.Add(-d.cfg.Lease/3+d.cfg.PollInterval)))
	d.mu.Unlock()
	if !active {
		return -1
	}
	if !due {
		return l.slotsRenew.Sub(now)
	}
	n, err := d.cfg.Store.AcquireSlots(d.ctx, l.id, d.cfg.Owner, want, maxSlots, now, now.Add(d.cfg.Lease))
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Error("acquire send slots", "endpoint", l.id, "err", err)
		}
		return d.cfg.PollInterval
	}
	l.slots = n
	l.slotsRenew = now.Add(d.cfg.Lease / 3)
	if n == 0 {
		return d.cfg.PollInterval
	}
	return d.cfg.Lease / 3
}

// run is the lane's loop: claim when empty, start sends while under the
// bound, sleep until woken. It ends when the lane has nothing to do.
func (l *lane) run() {
	d := l.d
	defer d.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer func() {
		if d.cfg.SharedLimits {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.cfg.Store.ReleaseSlots(ctx, l.id, d.cfg.Owner); err != nil {
				d.log.Warn("release send slots", "endpoint", l.id, "err", err)
			}
		}
	}()
	for {
		if d.ctx.Err() != nil {
			d.mu.Lock()
			delete(d.lanes, l.id)
			d.mu.Unlock()
			return
		}
		var wait time.Duration = -1
		renewIn := time.Duration(-1)
		if d.cfg.SharedLimits {
			renewIn = l.renewSlots()
		}

		d.mu.Lock()
		needClaim := l.claimable && len(l.queue) == 0 && l.reserved == 0 && l.inflight < l.limit()
		limit := l.window() - l.load()
		gen := l.wakeGen
		d.mu.Unlock()

		if needClaim {
			now := d.cfg.Now()
			jobs, err := d.cfg.Store.Claim(d.ctx, store.ClaimRequest{
				EndpointID: l.id, Owner: d.cfg.Owner, Now: now, LeaseUntil: d.LeaseUntil(now), Limit: limit, FIFO: l.fifo,
			})
			d.mu.Lock()
			if err != nil {
				if d.ctx.Err() == nil {
					d.log.Error("claim failed", "endpoint", l.id, "err", err)
				}
				wait = d.cfg.PollInterval
			} else {
				if len(jobs) > 0 {
					l.setEndpoint(&jobs[0].Endpoint)
				}
				for _, j := range jobs {
					l.queue = append(l.queue, queued{job: j, leaseUntil: d.LeaseUntil(now)})
				}
				if len(jobs) < limit && l.wakeGen == gen {
					l.claimable = false
				}
			}
			d.mu.Unlock()
		}

		d.mu.Lock()
		now := d.cfg.Now()
		for len(l.queue) > 0 && l.inflight < l.limit() {
			if l.rate > 0 && now.Before(l.nextSend) {
				if w := l.nextSend.Sub(now); wait < 0 || w < wait {
					wait = w
				}
				break
			}
			q := l.queue[0]
			l.queue[0] = queued{}
			l.queue = l.queue[1:]
			if now.Add(d.cfg.Timeout).After(q.leaseUntil) {
				// Too late to finish inside the lease: leave it to the
				// reclaimer rather than risk two nodes sending it.
				continue
			}
			if l.rate > 0 {
				if l.nextSend.Before(now) {
					l.nextSend = now
				}
				l.nextSend = l.nextSend.Add(l.sendInterval())
			}
			l.inflight++
			d.sends.Add(1)
			go d.send(l, q.job, l.fifo)
		}
		if l.load() == 0 && !l.claimable {
			if l.idleSince.IsZero() {
				l.idleSince = now
			}
			if now.Sub(l.idleSince) >= laneIdle {
				delete(d.lanes, l.id)
				d.mu.Unlock()
				return
			}
			if wait < 0 || wait > laneIdle {
				wait = laneIdle
			}
		} else {
			l.idleSince = time.Time{}
		}
		if len(l.queue) == 0 && l.claimable && l.reserved == 0 && l.inflight < l.limit() && wait < 0 {
			d.mu.Unlock()
			continue // claim again at once
		}
		d.mu.Unlock()
		if renewIn >= 0 && (wait < 0 || renewIn < wait) {
			wait = renewIn
		}

		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-l.wake:
		case <-timer.C:
		case <-d.ctx.Done():
		}
		if wait >= 0 && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// sent is called (under mu) when a request finished.
// recorded is called (under mu) when an outcome is in the database.
func (l *lane) recorded(r *result) {
	if r.fifo {
		l.inflight--
		l.claimable = true
		l.kick()
	}
}
