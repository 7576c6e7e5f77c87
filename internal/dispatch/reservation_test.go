package dispatch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// resFixture is a started dispatcher on a real SQLite store, with a
// receiver answering 200.
type resFixture struct {
	db     *sqlite.DB
	d      *Dispatcher
	rc     *receiver.Receiver
	tenant *slotwire.Tenant
}

func newResFixture(t *testing.T) *resFixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rc := receiver.New(nil)
	t.Cleanup(rc.Close)
	f := &resFixture{db: db, rc: rc}
	f.tenant = &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: time.Now()}
	if err := db.CreateTenant(ctx, f.tenant, nil); err != nil {
		t.Fatal(err)
	}
	f.d = New(Config{Store: db, Guard: &netguard.Guard{AllowPrivate: true}, PollInterval: 50 * time.Millisecond})
	if err := f.d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.d.Stop)
	return f
}

func (f *resFixture) endpoint(t *testing.T, conc int, ordering string) *slotwire.Endpoint {
	t.Helper()
	now := time.Now()
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: f.tenant.ID, URL: f.rc.URL,
		EventTypes: []string{"*"}, Enabled: true, MaxConcurrency: conc, Ordering: ordering,
		Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	if err := f.db.CreateEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

func reserve(d *Dispatcher, ep *slotwire.Endpoint, n int) *Reservation {
	return d.Reserve(map[string]int{ep.ID: n}, map[string]*slotwire.Endpoint{ep.ID: ep})
}

// takes counts the room a reservation granted for an endpoint.
func takes(r *Reservation, id string) int {
	n := 0
	for r.Take(id) {
		n++
	}
	return n
}

// reserved is what the endpoint's lane holds for the ingester.
func reserved(d *Dispatcher, id string) int {
	l := d.lookup(id)
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reserved
}

// A reservation grants up to the lane's window, and what one holds is
// not granted again.
func TestReserveGrantsUpToWindow(t *testing.T) {
	f := newResFixture(t)
	ep := f.endpoint(t, 4, "")
	r := reserve(f.d, ep, 100)
	// A new lane's window is twice its bound.
	if got := takes(r, ep.ID); got != 8 {
		t.Fatalf("granted %d, want 8", got)
	}
	if got := reserved(f.d, ep.ID); got != 8 {
		t.Fatalf("lane holds %d, want 8", got)
	}
	small := reserve(f.d, ep, 3)
	if got := takes(small, ep.ID); got != 0 {
		t.Fatalf("granted %d from a full window", got)
	}
	r.Cancel()
	small.Cancel()
	if got := takes(reserve(f.d, ep, 3), ep.ID); got != 3 {
		t.Fatalf("granted %d of 3 in an empty window", got)
	}
}

// FIFO endpoints are never granted room: their deliveries go through the
// queue in order.
func TestReserveNeverGrantsFIFO(t *testing.T) {
	f := newResFixture(t)
	fifo := f.endpoint(t, 4, slotwire.OrderingFIFO)
	other := f.endpoint(t, 4, "")
	r := f.d.Reserve(map[string]int{fifo.ID: 5, other.ID: 5}, map[string]*slotwire.Endpoint{fifo.ID: fifo, other.ID: other})
	if got := takes(r, fifo.ID); got != 0 {
		t.Fatalf("FIFO endpoint granted %d", got)
	}
	if got := takes(r, other.ID); got != 5 {
		t.Fatalf("other endpoint granted %d, want 5", got)
	}
	if got := reserved(f.d, fifo.ID); got != 0 {
		t.Fatalf("FIFO lane holds %d", got)
	}
	r.Cancel()
}

// Fulfil hands the leased jobs to the lane, which sends them, and gives
// back the room that did not become a job.
func TestFulfilHandsJobsAndReleasesRest(t *testing.T) {
	f := newResFixture(t)
	ctx := context.Background()
	ep := f.endpoint(t, 4, "")
	r := reserve(f.d, ep, 8)
	now := time.Now()
	b := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: f.d.Owner(), LeaseUntil: f.d.LeaseUntil(now)}
	for i := 0; i < 3; i++ {
		e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: f.tenant.ID, Type: "a.b", Data: []byte(`{}`), CreatedAt: now}
		e.Payload = e.BuildPayload()
		b.Items = append(b.Items, &store.IngestItem{Event: e, Targets: []store.Target{{Endpoint: ep, Leased: r.Take(ep.ID)}}})
	}
	if err := f.db.Ingest(ctx, b); err != nil {
		r.Cancel()
		t.Fatal(err)
	}
	var jobs []*store.Job
	for _, it := range b.Items {
		jobs = append(jobs, it.Jobs...)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d leased jobs, want 3", len(jobs))
	}
	r.Fulfil(jobs)
	if got := reserved(f.d, ep.ID); got != 0 {
		t.Fatalf("lane still holds %d after Fulfil", got)
	}
	if !f.rc.WaitCount(3, 5*time.Second) {
		t.Fatalf("receiver got %d of 3", f.rc.Count())
	}
	for _, j := range jobs {
		waitStatus(t, f, j.Delivery.ID, slotwire.StatusSucceeded)
	}
	if got := takes(reserve(f.d, ep, 100), ep.ID); got == 0 {
		t.Fatal("no room after the jobs were sent")
	}
}

// Cancel gives back all the room, taken or not.
func TestCancelReleasesEverything(t *testing.T) {
	f := newResFixture(t)
	a, b := f.endpoint(t, 2, ""), f.endpoint(t, 2, "")
	r := f.d.Reserve(map[string]int{a.ID: 4, b.ID: 4}, map[string]*slotwire.Endpoint{a.ID: a, b.ID: b})
	r.Take(a.ID)
	r.Take(b.ID)
	r.Cancel()
	for _, ep := range []*slotwire.Endpoint{a, b} {
		if got := reserved(f.d, ep.ID); got != 0 {
			t.Errorf("lane holds %d after Cancel", got)
		}
		if r.Take(ep.ID) {
			t.Error("Take succeeded after Cancel")
		}
		if got := takes(reserve(f.d, ep, 4), ep.ID); got != 4 {
			t.Errorf("granted %d of 4 after Cancel", got)
		}
	}
}

// A stopped or missing dispatcher grants nothing, and its reservations
// are safe to use.
func TestReserveWithoutDispatcher(t *testing.T) {
	f := newResFixture(t)
	ep := f.endpoint(t, 4, "")
	var none *Dispatcher
	r := reserve(none, ep, 5)
	if r.Take(ep.ID) {
		t.Fatal("nil dispatcher granted room")
	}
	r.Fulfil(nil)
	r.Cancel()
	f.d.Stop()
	r = reserve(f.d, ep, 5)
	if r.Take(ep.ID) {
		t.Fatal("stopped dispatcher granted room")
	}
	r.Fulfil(nil)
	r.Cancel()
}

func waitStatus(t *testing.T, f *resFixture, id, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := f.db.GetDelivery(context.Background(), f.tenant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: status %s, want %s", id, d.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
