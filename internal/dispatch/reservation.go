package dispatch

import (
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Reservation is room in endpoint lanes held for deliveries that are about
// to be created. The ingester asks for it before its transaction, marks
// the targets it may lease with Take, and after the commit either fulfils
// it with the leased jobs or cancels it. Nothing of the dispatcher runs
// inside a database transaction.
//
// A Reservation is used by one goroutine; Take needs no lock.
type Reservation struct {
	d *Dispatcher
	// left is the granted room not yet taken; held is what the lanes
	// count as reserved until Fulfil or Cancel.
	left, held map[string]int
}

// Reserve asks for room for want[endpointID] new deliveries to each of the
// endpoints (eps gives their settings). It grants what the lanes have
// room for, possibly nothing; ordered endpoints (FIFO or by key) are never
// granted, their deliveries must go through the queue in order. On a stopped or nil
// dispatcher the reservation is empty.
func (d *Dispatcher) Reserve(want map[string]int, eps map[string]*slotwire.Endpoint) *Reservation {
	r := &Reservation{d: d, left: map[string]int{}, held: map[string]int{}}
	if d == nil || len(want) == 0 || !d.running() {
		return r
	}
	for id, n := range want {
		ep := eps[id]
		if ep == nil || ep.Ordered() || ep.PendingVerification || n <= 0 {
			continue
		}
		if g := d.reserve(ep, n); g > 0 {
			r.left[id], r.held[id] = g, g
		}
	}
	return r
}

// reserve reserves up to n deliveries in ep's lane and returns how many
// it got. A lane started for handed-over work has nothing to claim yet;
// older pending work is found by the poller.
func (d *Dispatcher) reserve(ep *slotwire.Endpoint, n int) int {
	got := 0
	d.withLane(ep.ID, false, func(l *lane) {
		l.setEndpoint(ep)
		if room := l.window() - l.load(); room > 0 {
			got = min(n, room)
			l.reserved += got
		}
	})
	return got
}

// Take uses one unit of the room granted for the endpoint: true means the
// delivery may be created leased to this node.
func (r *Reservation) Take(endpointID string) bool {
	if r.left[endpointID] <= 0 {
		return false
	}
	r.left[endpointID]--
	return true
}

// Fulfil hands the committed, leased jobs to their lanes and gives back
// the room that did not become a job (duplicates, endpoints deleted since
// the fan-out, room not taken).
func (r *Reservation) Fulfil(jobs []*store.Job) {
	if r.d == nil || len(r.held) == 0 {
		return
	}
	if !r.d.running() {
		return // stopping: the jobs stay leased and Stop releases them
	}
	leaseUntil := r.d.LeaseUntil(r.d.cfg.Now())
	for len(jobs) > 0 {
		// Jobs of one endpoint come together: hand each run at once.
		n := 1
		for n < len(jobs) && jobs[n].Endpoint.ID == jobs[0].Endpoint.ID {
			n++
		}
		r.hand(jobs[:n], leaseUntil)
		jobs = jobs[n:]
	}
	r.release()
}

// hand queues jobs of one endpoint in its lane, in place of their room.
func (r *Reservation) hand(jobs []*store.Job, leaseUntil time.Time) {
	id := jobs[0].Endpoint.ID
	r.d.withLane(id, true, func(l *lane) {
		took := min(r.held[id], len(jobs))
		r.held[id] -= took
		l.reserved -= took
		l.enqueueLocked(jobs, leaseUntil)
		l.kick()
	})
}

// Cancel gives back all the room (the transaction failed).
func (r *Reservation) Cancel() {
	if r.d == nil || len(r.held) == 0 {
		return
	}
	r.release()
}

// release gives back the room still held.
func (r *Reservation) release() {
	for id, n := range r.held {
		if l := r.d.lookup(id); l != nil && n > 0 {
			l.mu.Lock()
			l.reserved -= n
			l.kick()
			l.mu.Unlock()
		}
		delete(r.held, id)
	}
	clear(r.left)
}
