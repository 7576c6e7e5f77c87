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

	"go.opentelemetry.io/otel/trace"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/tracing"
)

// ErrStopped is returned by Publish after Stop.
var ErrStopped = errors.New("ingest: stopped")

// Config of an Ingester.
type Config struct {
	Store store.Store
	// Dispatcher, when set, is asked for room for the new deliveries
	// before each transaction and given the leased ones after it. Without
	// it (API-only nodes) every delivery waits in the queue and the workers
	// are told through the store's Notifier, if it has one.
	Dispatcher        *dispatch.Dispatcher
	Logger            *slog.Logger
	Now               func() time.Time
	IdempotencyWindow time.Duration // default 24h
	MaxBatch          int           // default 512
	// OnStored, when set, is told how many new events each commit stored
	// (duplicates not counted); metrics count with it.
	OnStored func(n int)
	// Tracer makes the publish and commit spans (nil: tracing off) and
	// gives the jobs leased at ingest their publish's span context.
	Tracer *tracing.Tracer
}

// Ingester gathers events into group commits.
type Ingester struct {
	cfg  Config
	reqs chan *request
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// cache holds the tenants' endpoints for the fan-out (loop only).
	cache *endpointCache
}

// request is one caller's events, committed together.
type request struct {
	items   []*store.IngestItem
	keyHash string // the API key that published them (WithKey), if any
	done    chan error
	span    tracing.Span // the publish span (zero when tracing is off)
}

type keyCtx struct{}

// WithKey marks ctx as a publish by the API key with that hash: its events
// are refused at commit (401 unauthorized) if the key was revoked since it
// was checked, so a key cache in front cannot outlive a revocation.
func WithKey(ctx context.Context, hash string) context.Context {
	return context.WithValue(ctx, keyCtx{}, hash)
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
	return &Ingester{cfg: cfg, reqs: make(chan *request, cfg.MaxBatch*4), stop: make(chan struct{}), done: make(chan struct{}),
		cache: newEndpointCache()}
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

// Result is what a publisher learns of its event.
type Result struct {
	// ID is the event's id; for a duplicate, the id of the first event
	// with the same idempotency key.
	ID string
	// Duplicate: the idempotency key was seen within the window and
	// nothing new was stored.
	Duplicate bool
}

// Publish stores e durably and returns its ingest result. e must have
// TenantID, Type and Data set; ID, CreatedAt and Payload are filled here.
func (in *Ingester) Publish(ctx context.Context, e *slotwire.Event) (Result, error) {
	res, err := in.PublishBatch(ctx, []*slotwire.Event{e})
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// PublishBatch stores the events durably in one transaction (all or
// none) and returns their results in order. Within the batch, an
// idempotency key repeated makes the later event a duplicate of the
// earlier one.
func (in *Ingester) PublishBatch(ctx context.Context, events []*slotwire.Event) ([]Result, error) {
	hash, _ := ctx.Value(keyCtx{}).(string)
	req := &request{items: make([]*store.IngestItem, len(events)), keyHash: hash, done: make(chan error, 1)}
	for i, e := range events {
		in.prepare(e)
		req.items[i] = &store.IngestItem{Event: e, KeyHash: hash}
	}
	req.span = in.cfg.Tracer.StartPublish(ctx, req.items)
	err := in.await(ctx, req)
	req.span.EndPublish(req.items, err)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(req.items))
	for i, it := range req.items {
		out[i] = Result{ID: it.Event.ID, Duplicate: it.Duplicate}
	}
	return out, nil
}

// await submits the request and waits for its commit.
func (in *Ingester) await(ctx context.Context, req *request) error {
	if err := in.submit(ctx, req); err != nil {
		return err
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (in *Ingester) prepare(e *slotwire.Event) {
	if e.ID == "" {
		e.ID = slotwire.NewID(slotwire.PrefixEvent)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = in.cfg.Now().UTC()
	}
	if e.Payload == nil {
		e.Payload = e.BuildPayload()
	}
}

func (in *Ingester) submit(ctx context.Context, req *request) error {
	select {
	case <-in.stop:
		return ErrStopped
	default:
	}
	select {
	case in.reqs <- req:
		return nil
	case <-in.stop:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (in *Ingester) loop(ctx context.Context) {
	defer close(in.done)
	batch := make([]*request, 0, in.cfg.MaxBatch)
	for {
		select {
		case r := <-in.reqs:
			batch = in.fill(append(batch[:0], r), len(r.items))
			in.commit(ctx, batch)
		case <-in.stop:
			in.drain(ctx, batch[:0])
			return
		}
	}
}

// fill adds the requests already waiting to the batch while it holds
// fewer than MaxBatch events.
func (in *Ingester) fill(batch []*request, events int) []*request {
	for events < in.cfg.MaxBatch {
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
			events += len(r.items)
		default:
			return batch
		}
	}
	return batch
}

// drain commits what was submitted before Stop.
func (in *Ingester) drain(ctx context.Context, batch []*request) {
	events := 0
	for {
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
			if events += len(r.items); events >= in.cfg.MaxBatch {
				in.commit(ctx, batch)
				batch, events = batch[:0], 0
			}
		default:
			if len(batch) > 0 {
				in.commit(ctx, batch)
			}
			return
		}
	}
}

// commit stores one batch: fan-out first (no transaction open), then
// room reserved in the dispatcher's lanes, then one transaction with plain
// values, then the leased jobs handed over (or the room given back) and
// the workers woken for the rest.
func (in *Ingester) commit(ctx context.Context, reqs []*request) {
	now := in.cfg.Now().UTC()
	b := &store.IngestBatch{Now: now, IdempotencyWindow: in.cfg.IdempotencyWindow}
	for _, r := range reqs {
		b.Items = append(b.Items, r.items...)
	}
	span := in.startCommit(ctx, reqs, len(b.Items))
	res, err := in.store(ctx, b)
	var revoked *store.RevokedKeysError
	if errors.As(err, &revoked) {
		// Nothing was stored: refuse the revoked keys' requests, commit
		// the others again.
		if rest := refuse(reqs, revoked.Hashes); len(rest) > 0 && len(rest) < len(reqs) {
			span.EndCommit(nil, err)
			in.commit(ctx, rest)
			return
		} else if len(rest) == 0 {
			span.EndCommit(nil, err)
			return
		}
	}
	if err != nil {
		span.EndCommit(nil, err)
		in.cfg.Logger.Error("ingest batch failed", "events", len(reqs), "err", err)
		for _, r := range reqs {
			r.done <- fmt.Errorf("ingest: %w", err)
		}
		return
	}
	res.Fulfil(in.leasedJobs(reqs))
	in.wake(pendingEndpoints(b.Items))
	in.counted(b.Items)
	span.EndCommit(b.Items, nil)
	for _, r := range reqs {
		r.span.Link(span)
		r.done <- nil
	}
}

// startCommit starts the commit span of the requests (tracing on only).
func (in *Ingester) startCommit(ctx context.Context, reqs []*request, events int) tracing.Span {
	if !in.cfg.Tracer.Enabled() {
		return tracing.Span{}
	}
	publishes := make([]trace.SpanContext, 0, len(reqs))
	for _, r := range reqs {
		if sc := r.span.Context(); sc.IsValid() {
			publishes = append(publishes, sc)
		}
	}
	return in.cfg.Tracer.StartCommit(ctx, publishes, events)
}

// leasedJobs takes the jobs leased at ingest out of the requests' items,
// each given its publish's span context when tracing is on.
func (in *Ingester) leasedJobs(reqs []*request) []*store.Job {
	traced := in.cfg.Tracer.Enabled()
	var jobs []*store.Job
	for _, r := range reqs {
		var sc *trace.SpanContext // one for the jobs of the request
		for _, it := range r.items {
			if traced && len(it.Jobs) > 0 {
				if sc == nil {
					sc = new(r.span.Context())
				}
				for _, j := range it.Jobs {
					j.Trace = sc
				}
			}
			jobs = append(jobs, it.Jobs...)
			it.Jobs = nil
		}
	}
	return jobs
}

// refuse answers the requests published with a revoked key and returns
// the others.
func refuse(reqs []*request, hashes []string) []*request {
	gone := map[string]bool{}
	for _, h := range hashes {
		gone[h] = true
	}
	var rest []*request
	for _, r := range reqs {
		if r.keyHash != "" && gone[r.keyHash] {
			r.done <- slotwire.Errorf(slotwire.ECodeUnauthorized, "API key is not valid")
			continue
		}
		rest = append(rest, r)
	}
	return rest
}

// store fans the batch out from the endpoint cache, reserves room for it
// and stores it; when the cache turns out stale (store.ErrStale: nothing
// was stored) it forgets those tenants and does it all again from the
// database.
func (in *Ingester) store(ctx context.Context, b *store.IngestBatch) (*dispatch.Reservation, error) {
	versions, err := in.cache.fill(ctx, in.cfg.Store, b.Items)
	if err != nil {
		return nil, err
	}
	b.Versions = versions
	if err := in.boundUnverified(ctx, b); err != nil {
		return nil, err
	}
	res, err := in.storeFanned(ctx, b)
	if !errors.Is(err, store.ErrStale) {
		return res, err
	}
	in.cache.forget(versions)
	if b.Versions, err = in.cache.fill(ctx, in.cfg.Store, b.Items); err != nil {
		return nil, err
	}
	if err := in.boundUnverified(ctx, b); err != nil {
		return nil, err
	}
	return in.storeFanned(ctx, b)
}

// MaxUnverifiedQueue is how many deliveries wait at most for an endpoint
// pending verification; later events are not queued for it.
const MaxUnverifiedQueue = 1000

// boundUnverified drops the targets of endpoints pending verification
// past MaxUnverifiedQueue waiting deliveries.
func (in *Ingester) boundUnverified(ctx context.Context, b *store.IngestBatch) error {
	room := map[string]int{}
	for _, it := range b.Items {
		kept := it.Targets[:0]
		for _, t := range it.Targets {
			ep := t.Endpoint
			if ep.PendingVerification {
				left, ok := room[ep.ID]
				if !ok {
					n, err := in.cfg.Store.PendingCount(ctx, ep.ID, MaxUnverifiedQueue)
					if err != nil {
						return err
					}
					left = MaxUnverifiedQueue - n
				}
				if left <= 0 {
					room[ep.ID] = 0
					continue
				}
				room[ep.ID] = left - 1
			}
			kept = append(kept, t)
		}
		it.Targets = kept
	}
	return nil
}

// storeFanned reserves room for the batch's targets and stores it.
func (in *Ingester) storeFanned(ctx context.Context, b *store.IngestBatch) (*dispatch.Reservation, error) {
	res := in.reserve(b)
	if err := in.cfg.Store.Ingest(ctx, b); err != nil {
		res.Cancel()
		return nil, err
	}
	return res, nil
}

// reserve asks the dispatcher for room for the batch's deliveries and
// marks the targets it granted as leased.
func (in *Ingester) reserve(b *store.IngestBatch) *dispatch.Reservation {
	d := in.cfg.Dispatcher
	want := map[string]int{}
	eps := map[string]*slotwire.Endpoint{}
	for _, it := range b.Items {
		for _, t := range it.Targets {
			want[t.Endpoint.ID]++
			eps[t.Endpoint.ID] = t.Endpoint
		}
	}
	res := d.Reserve(want, eps)
	if d == nil {
		return res
	}
	b.Owner, b.LeaseUntil = d.Owner(), d.LeaseUntil(b.Now)
	for _, it := range b.Items {
		for i := range it.Targets {
			it.Targets[i].Leased = res.Take(it.Targets[i].Endpoint.ID)
		}
	}
	return res
}

// pendingEndpoints lists the endpoints that got deliveries not leased to
// this node.
func pendingEndpoints(items []*store.IngestItem) []string {
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		if it.Duplicate {
			continue
		}
		for _, t := range it.Targets {
			if id := t.Endpoint.ID; !t.Leased && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// wake tells the dispatcher here, or the workers elsewhere, about new
// pending work.
func (in *Ingester) wake(ids []string) {
	if len(ids) == 0 {
		return
	}
	if d := in.cfg.Dispatcher; d != nil {
		d.Wake(ids...)
	} else if n := in.cfg.Store.Capabilities().Notifier; n != nil {
		if err := n.NotifyWork(context.Background(), ids); err != nil {
			in.cfg.Logger.Warn("notify work", "err", err)
		}
	}
}

// counted tells OnStored how many of the items were stored.
func (in *Ingester) counted(items []*store.IngestItem) {
	if in.cfg.OnStored == nil {
		return
	}
	n := 0
	for _, it := range items {
		if !it.Duplicate {
			n++
		}
	}
	in.cfg.OnStored(n)
}
