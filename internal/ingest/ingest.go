// Package ingest turns published events into durable rows with group
// commit: concurrent Publish calls are gathered into one transaction (one
// fsync) and each caller is answered only after that transaction commits.
// Deliveries that the local dispatcher has room for are created already
// leased to this node and handed to it directly, so the common case costs no
// claim round trip; the rest wait in the database as pending work.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Dispatcher is what the ingester needs of the delivery engine. It may be
// nil on nodes that do not deliver.
type Dispatcher interface {
	// TryTake reserves room for one new delivery to ep; false means the
	// delivery should wait in the database as pending.
	TryTake(ep *slotwire.Endpoint) bool
	// Accept hands over committed, leased jobs and releases the
	// reservations of any that were not created (failed batch: nil jobs).
	Accept(jobs []*store.Job, unreserve map[string]int)
	// Wake announces endpoints with new pending deliveries.
	Wake(endpointIDs ...string)
	// LeaseUntil is the lease given to jobs taken at now.
	LeaseUntil(now time.Time) time.Time
	// Owner identifies this node in leases.
	Owner() string
}

// ErrStopped is returned by Publish after Stop.
var ErrStopped = errors.New("ingest: stopped")

// Config of an Ingester.
type Config struct {
	Store      store.Store
	Dispatcher Dispatcher // optional
	// Wake is called with endpoints that got pending deliveries when there
	// is no Dispatcher (API-only nodes notify the workers this way).
	Wake              func(endpointIDs ...string)
	Logger            *slog.Logger
	Now               func() time.Time
	IdempotencyWindow time.Duration // default 24h
	MaxBatch          int           // default 512
}

// Ingester gathers events into group commits.
type Ingester struct {
	cfg  Config
	reqs chan *request
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type request struct {
	item *store.IngestItem
	done chan error
}

// New returns an Ingester; call Start before Publish.
func New(cfg Config) *Ingester {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdempotencyWindow <= 0 {
		cfg.IdempotencyWindow = 24 * time.Hour
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	return &Ingester{cfg: cfg, reqs: make(chan *request, cfg.MaxBatch*4), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the commit loop until Stop.
func (in *Ingester) Start(ctx context.Context) {
	go in.loop(context.WithoutCancel(ctx))
}

// Stop commits what was already submitted and stops.
func (in *Ingester) Stop() {
	in.once.Do(func() { close(in.stop) })
	<-in.done
}

// Publish stores e durably and returns its ingest result. e must have
// TenantID, Type and Data set; ID, CreatedAt and Payload are filled here.
func (in *Ingester) Publish(ctx context.Context, e *slotwire.Event) (*store.IngestItem, error) {
	if e.ID == "" {
		e.ID = slotwire.NewID(slotwire.PrefixEvent)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = in.cfg.Now().UTC()
	}
	if e.Payload == nil {
		e.Payload = e.BuildPayload()
	}
	req := &request{item: &store.IngestItem{Event: e}, done: make(chan error, 1)}
	select {
	case <-in.stop:
		return nil, ErrStopped
	default:
	}
	select {
	case in.reqs <- req:
	case <-in.stop:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-req.done:
		if err != nil {
			return nil, err
		}
		return req.item, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (in *Ingester) loop(ctx context.Context) {
	defer close(in.done)
	batch := make([]*request, 0, in.cfg.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		case <-in.stop:
			// Drain what was queued before Stop.
			for {
				select {
				case r := <-in.reqs:
					batch = append(batch, r)
					if len(batch) == in.cfg.MaxBatch {
						in.commit(ctx, batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						in.commit(ctx, batch)
					}
					return
				}
			}
		}
	fill:
		for len(batch) < in.cfg.MaxBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		in.commit(ctx, batch)
	}
}

func (in *Ingester) commit(ctx context.Context, reqs []*request) {
	now := in.cfg.Now().UTC()
	b := &store.IngestBatch{Now: now, IdempotencyWindow: in.cfg.IdempotencyWindow}
	for _, r := range reqs {
		b.Items = append(b.Items, r.item)
	}
	d := in.cfg.Dispatcher
	reserved := map[string]int{}
	pending := map[string]bool{}
	b.Take = func(ep *slotwire.Endpoint) bool {
		if d != nil && d.TryTake(ep) {
			reserved[ep.ID]++
			return true
		}
		pending[ep.ID] = true
		return false
	}
	if d != nil {
		b.Owner = d.Owner()
		b.LeaseUntil = d.LeaseUntil(now)
	}
	err := in.cfg.Store.Ingest(ctx, b)
	if err != nil {
		in.cfg.Logger.Error("ingest batch failed", "events", len(reqs), "err", err)
		if d != nil {
			d.Accept(nil, reserved)
		}
		for _, r := range reqs {
			r.item.Jobs = nil
			r.done <- fmt.Errorf("ingest: %w", err)
		}
		return
	}
	var jobs []*store.Job
	for _, it := range b.Items {
		jobs = append(jobs, it.Jobs...)
		it.Jobs = nil
	}
	for _, j := range jobs {
		reserved[j.Endpoint.ID]--
	}
	if d != nil {
		d.Accept(jobs, reserved)
	}
	if len(pending) > 0 {
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		switch {
		case d != nil:
			d.Wake(ids...)
		case in.cfg.Wake != nil:
			in.cfg.Wake(ids...)
		}
	}
	for _, r := range reqs {
		r.done <- nil
	}
}
