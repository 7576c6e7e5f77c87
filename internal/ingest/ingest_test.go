package ingest_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

type fixture struct {
	db     *sqlite.DB
	rc     *receiver.Receiver
	tenant *slotwire.Tenant
	eps    []*slotwire.Endpoint
}

func setup(t *testing.T, endpoints int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "i.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rc := receiver.New(nil)
	t.Cleanup(rc.Close)
	now := time.Now()
	f := &fixture{db: db, rc: rc}
	f.tenant = &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	if err := db.CreateTenant(ctx, f.tenant, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < endpoints; i++ {
		ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: f.tenant.ID, URL: rc.URL,
			EventTypes: []string{"*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
		f.eps = append(f.eps, ep)
	}
	return f
}

func (f *fixture) event(key string) *slotwire.Event {
	return &slotwire.Event{TenantID: f.tenant.ID, Type: "invoice.paid", Data: []byte(`{"n":1}`), IdempotencyKey: key}
}

func (f *fixture) deliveries(t *testing.T, ep *slotwire.Endpoint) []*slotwire.Delivery {
	t.Helper()
	ds, err := f.db.ListDeliveries(context.Background(), f.tenant.ID, store.DeliveryFilter{EndpointID: ep.ID, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// Events published on a node with a dispatcher reach every endpoint.
func TestPublishDelivers(t *testing.T) {
	f := setup(t, 2)
	ctx := context.Background()
	d := dispatch.New(dispatch.Config{Store: f.db, Guard: &netguard.Guard{AllowPrivate: true}, PollInterval: 50 * time.Millisecond})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	in := ingest.New(ingest.Config{Store: f.db, Dispatcher: d})
	in.Start(ctx)
	defer in.Stop()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := in.Publish(ctx, f.event("")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if !f.rc.WaitCount(40, 10*time.Second) {
		t.Fatalf("receiver got %d of 40", f.rc.Count())
	}
}

// Without a dispatcher (an API-only node) deliveries wait in the queue.
func TestPublishWithoutDispatcherQueues(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	in := ingest.New(ingest.Config{Store: f.db})
	in.Start(ctx)
	defer in.Stop()
	res, err := in.Publish(ctx, f.event(""))
	if err != nil {
		t.Fatal(err)
	}
	ds := f.deliveries(t, f.eps[0])
	if len(ds) != 1 || ds[0].EventID != res.ID || ds[0].Status != slotwire.StatusPending {
		t.Fatalf("deliveries %+v", ds)
	}
}

// A repeated idempotency key returns the first event and stores nothing.
func TestPublishIdempotent(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	in := ingest.New(ingest.Config{Store: f.db})
	in.Start(ctx)
	defer in.Stop()
	first, err := in.Publish(ctx, f.event("k1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := in.Publish(ctx, f.event("k1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || again.ID != first.ID {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if n := len(f.deliveries(t, f.eps[0])); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
}

// Stop commits what was submitted; later publishes are refused.
func TestStop(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	in := ingest.New(ingest.Config{Store: f.db, MaxBatch: 4})
	in.Start(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := in.Publish(ctx, f.event(""))
			switch {
			case err == nil:
				mu.Lock()
				accepted++
				mu.Unlock()
			case !errors.Is(err, ingest.ErrStopped):
				t.Error(err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	in.Stop()
	wg.Wait()
	if n := len(f.deliveries(t, f.eps[0])); n != accepted {
		t.Fatalf("%d deliveries for %d accepted events", n, accepted)
	}
	if _, err := in.Publish(ctx, f.event("")); !errors.Is(err, ingest.ErrStopped) {
		t.Fatalf("Publish after Stop: %v", err)
	}
}

// failingIngest is the real store whose transactions fail.
type failingIngest struct{ *sqlite.DB }

func (failingIngest) Ingest(context.Context, *store.IngestBatch) error {
	return errors.New("disk I/O error")
}

// A failed transaction fails its publishers and leaves the dispatcher
// working: the next events are delivered.
func TestFailedCommit(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	d := dispatch.New(dispatch.Config{Store: f.db, Guard: &netguard.Guard{AllowPrivate: true}, PollInterval: 50 * time.Millisecond})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	bad := ingest.New(ingest.Config{Store: failingIngest{f.db}, Dispatcher: d})
	bad.Start(ctx)
	for i := 0; i < 40; i++ {
		if _, err := bad.Publish(ctx, f.event("")); err == nil {
			t.Fatal("publish succeeded on a failing store")
		}
	}
	bad.Stop()
	in := ingest.New(ingest.Config{Store: f.db, Dispatcher: d})
	in.Start(ctx)
	defer in.Stop()
	for i := 0; i < 5; i++ {
		if _, err := in.Publish(ctx, f.event("")); err != nil {
			t.Fatal(err)
		}
	}
	if !f.rc.WaitCount(5, 10*time.Second) {
		t.Fatalf("receiver got %d of 5", f.rc.Count())
	}
}
