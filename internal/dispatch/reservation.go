package dispatch

import (
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
// room for, possibly nothing; FIFO endpoints are never granted, their
// deliveries must go through the queue in order. On a stopped or nil
// dispatcher the reservation is empty.
func (d *Dispatcher) Reserve(want map[string]int, eps map[string]*slotwire.Endpoint) *Reservation {
	r := &Reservation{d: d, left: map[string]int{}, held: map[string]int{}}
	if d == nil || len(want) == 0 {
		return r
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.ctx.Err() != nil {
		return r
	}
	for id, n := range want {
		ep := eps[id]
		if ep == nil || ep.Ordering == slotwire.OrderingFIFO || n <= 0 {
			continue
		}
		if g := d.reserveLocked(ep, n); g > 0 {
			r.left[id], r.held[id] = g, g
		}
	}
	return r
}

// reserveLocked reserves up to n deliveries in ep's lane and returns how
// many it got.
func (d *Dispatcher) reserveLocked(ep *slotwire.Endpoint, n int) int {
	l, created := d.lanes[ep.ID]
	if !created {
		// A lane started for handed-over work has nothing to claim yet;
		// older pending work is found by the poller.
		l = d.laneLocked(ep.ID)
		l.claimable = false
	}
	l.conc = d.concurrency(ep)
	room := l.window() - l.load()
	if room <= 0 {
		return 0
	}
	g := min(n, room)
	l.reserved += g
	return g
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
	d := r.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx.Err() != nil {
		return // stopping: the jobs stay leased and Stop releases them
	}
	leaseUntil := d.LeaseUntil(d.cfg.Now())
	for _, j := range jobs {
		l := d.laneLocked(j.Endpoint.ID)
		if r.held[j.Endpoint.ID] > 0 {
			r.held[j.Endpoint.ID]--
			l.reserved--
		}
		l.setEndpoint(&j.Endpoint)
		l.queue = append(l.queue, queued{job: j, leaseUntil: leaseUntil})
		l.kick()
	}
	r.releaseLocked()
}

// Cancel gives back all the room (the transaction failed).
func (r *Reservation) Cancel() {
	if r.d == nil || len(r.held) == 0 {
		return
	}
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	r.releaseLocked()
}

func (r *Reservation) releaseLocked() {
	for id, n := range r.held {
		if l, ok := r.d.lanes[id]; ok && n > 0 {
			l.reserved -= n
			l.kick()
		}
		delete(r.held, id)
	}
	clear(r.left)
}
