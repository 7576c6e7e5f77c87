package dispatch

import (
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/store"
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
}

// laneIdle is how long an idle lane waits for more work before ending.
const laneIdle = 5 * time.Second

// maxWindow bounds the deliveries one lane holds leased in memory.
const maxWindow = 512

// window is how many deliveries the lane may hold (queued, reserved or in
// flight): enough to keep a fast receiver busy for a quarter of the lease,
// never more than can be sent well inside the lease.
func (l *lane) window() int {
	w := 2 * l.limit()
	if l.latency > 0 {
		budget := l.d.cfg.Lease / 4
		if n := l.limit() * int(budget/l.latency); n > w {
			w = n
		}
	}
	return min(w, maxWindow)
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

func (l *lane) limit() int {
	if l.fifo {
		return 1
	}
	return l.conc
}

// run is the lane's loop: claim when empty, start sends while under the
// bound, sleep until woken. It ends when the lane has nothing to do.
func (l *lane) run() {
	d := l.d
	defer d.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if d.ctx.Err() != nil {
			d.mu.Lock()
			delete(d.lanes, l.id)
			d.mu.Unlock()
			return
		}
		var wait time.Duration = -1

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
				wait = l.nextSend.Sub(now)
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
				l.nextSend = l.nextSend.Add(time.Second / time.Duration(l.rate))
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
