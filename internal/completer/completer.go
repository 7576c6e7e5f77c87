// Package completer records the outcomes of delivery attempts with group
// commit: outcomes queue up while the previous batch is being written and
// are then written together in one transaction (store.Queue.Complete).
// A bounded queue gives backpressure: when the database falls behind,
// Add blocks instead of piling finished requests up in memory.
package completer

import (
	"context"
	"log/slog"
	"time"

	"github.com/slotwire/slotwire/internal/health"
	"github.com/slotwire/slotwire/internal/store"
)

// Store is the part of the store the completer writes to.
type Store interface {
	Complete(ctx context.Context, b store.CompleteBatch) ([]store.EndpointTransition, error)
}

// Config of a Completer.
type Config struct {
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time
	// DisableAfter is passed to the store: an endpoint whose every attempt
	// failed for this long is disabled.
	DisableAfter time.Duration
	// Buffer is how many outcomes may wait to be written (default 8192).
	Buffer int
	// MaxBatch bounds the outcomes written in one transaction (default 1024).
	MaxBatch int
	// Retries is how many times a failed write is retried before the
	// batch is given up; its leases then expire and the deliveries are
	// retried (default 20).
	Retries int
	// RetryWait is the wait before the first retry, growing linearly
	// (default 100 ms).
	RetryWait time.Duration
	// Linger is how long a batch that nobody waits for may wait for more
	// outcomes before it is written (default 20 ms; negative: never), so
	// that at a low rate a commit records several outcomes instead of one.
	// A batch holding an outcome with a recorded callback (an ordered
	// endpoint waiting to send its next delivery) is written at once.
	Linger time.Duration
	// OnTransition is told, after the batch that caused it was written,
	// about every endpoint disabled or recovered.
	OnTransition func(store.EndpointTransition)
}

// Completer writes outcomes in batches.
type Completer struct {
	cfg  Config
	in   chan *item // pointers: a full queue of outcome values would take megabytes
	done chan struct{}
}

type item struct {
	outcome  store.Outcome
	recorded func()
}

// New returns a Completer; call Start before Add.
func New(cfg Config) *Completer {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 8192
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1024
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 20
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = 100 * time.Millisecond
	}
	if cfg.Linger == 0 {
		cfg.Linger = 20 * time.Millisecond
	}
	return &Completer{cfg: cfg, in: make(chan *item, cfg.Buffer), done: make(chan struct{})}
}

// Start runs the writer. Its writes are not cancelled with ctx: an
// outcome accepted by Add is written unless the database keeps failing.
func (c *Completer) Start(ctx context.Context) {
	go c.run(context.WithoutCancel(ctx))
}

// Add queues an outcome, blocking while the queue is full. recorded, when
// not nil, is called once the outcome is in the database (or its batch
// was given up). Add must not be called after or during Stop.
func (c *Completer) Add(o store.Outcome, recorded func()) {
	c.in <- &item{outcome: o, recorded: recorded}
}

// Stop writes what was queued and stops.
func (c *Completer) Stop() {
	close(c.in)
	<-c.done
}

func (c *Completer) run(ctx context.Context) {
	defer close(c.done)
	batch := make([]*item, 0, c.cfg.MaxBatch)
	outcomes := make([]store.Outcome, 0, c.cfg.MaxBatch)
	for {
		batch = c.gather(batch[:0])
		if len(batch) == 0 {
			return
		}
		outcomes = outcomes[:0]
		for _, it := range batch {
			outcomes = append(outcomes, it.outcome)
		}
		trans := c.write(ctx, outcomes)
		for i, it := range batch {
			if it.recorded != nil {
				it.recorded()
			}
			batch[i] = nil
		}
		c.report(trans)
	}
}

// gather waits for one outcome and adds those already queued behind it;
// when nobody waits for the batch it lingers for more (Config.Linger). It
// returns an empty batch once the queue is closed and drained.
func (c *Completer) gather(batch []*item) []*item {
	it, ok := <-c.in
	if !ok {
		return batch
	}
	batch, open := c.queued(append(batch, it))
	if !open || c.cfg.Linger < 0 || len(batch) == cap(batch) || awaited(batch) {
		return batch
	}
	timer := time.NewTimer(c.cfg.Linger)
	defer timer.Stop()
	for len(batch) < cap(batch) {
		select {
		case it, ok := <-c.in:
			if !ok {
				return batch
			}
			batch = append(batch, it)
			if it.recorded != nil {
				batch, _ = c.queued(batch)
				return batch
			}
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// queued adds the outcomes already waiting, up to the batch's capacity;
// it reports false once the queue is closed.
func (c *Completer) queued(batch []*item) ([]*item, bool) {
	for len(batch) < cap(batch) {
		select {
		case it, ok := <-c.in:
			if !ok {
				return batch, false
			}
			batch = append(batch, it)
		default:
			return batch, true
		}
	}
	return batch, true
}

// awaited reports whether someone waits for an outcome of the batch.
func awaited(batch []*item) bool {
	for _, it := range batch {
		if it.recorded != nil {
			return true
		}
	}
	return false
}

// write stores one batch, retrying a failing database for a while.
func (c *Completer) write(ctx context.Context, outcomes []store.Outcome) []store.EndpointTransition {
	for try := 0; ; try++ {
		trans, err := c.cfg.Store.Complete(ctx, store.CompleteBatch{Outcomes: outcomes, Now: c.cfg.Now(),
			Health: health.Policy{DisableAfter: c.cfg.DisableAfter}})
		if err == nil {
			return trans
		}
		c.cfg.Logger.Error("recording outcomes failed; retrying", "outcomes", len(outcomes), "try", try, "err", err)
		if try >= c.cfg.Retries {
			// The leases will expire and the deliveries be retried.
			c.cfg.Logger.Error("recording outcomes given up; their deliveries will be retried", "outcomes", len(outcomes))
			return nil
		}
		time.Sleep(time.Duration(try+1) * c.cfg.RetryWait)
	}
}

func (c *Completer) report(trans []store.EndpointTransition) {
	for _, t := range trans {
		c.cfg.Logger.Info("endpoint "+t.Kind, "endpoint", t.EndpointID, "reason", t.Reason)
		if c.cfg.OnTransition != nil {
			c.cfg.OnTransition(t)
		}
	}
}
