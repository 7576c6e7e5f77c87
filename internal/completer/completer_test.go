package completer_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/completer"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const owner = "node-a"

// fixture is a real SQLite store with one endpoint and n deliveries
// leased to owner.
type fixture struct {
	db     *sqlite.DB
	tenant *slotwire.Tenant
	ep     *slotwire.Endpoint
	jobs   []*store.Job
}

func setup(t *testing.T, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	f := &fixture{db: db}
	f.tenant = &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	must(t, db.CreateTenant(ctx, f.tenant, nil))
	f.ep = &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: f.tenant.ID, URL: "https://example.com/h",
		EventTypes: []string{"*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	must(t, db.CreateEndpoint(ctx, f.ep))
	b := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: owner, LeaseUntil: now.Add(time.Minute)}
	for i := 0; i < n; i++ {
		e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: f.tenant.ID, Type: "a.b", Data: []byte(`{}`), CreatedAt: now}
		e.Payload = e.BuildPayload()
		b.Items = append(b.Items, &store.IngestItem{Event: e})
	}
	must(t, fanout.Fill(ctx, db, b.Items))
	for _, it := range b.Items {
		for i := range it.Targets {
			it.Targets[i].Leased = true
		}
	}
	must(t, db.Ingest(ctx, b))
	for _, it := range b.Items {
		f.jobs = append(f.jobs, it.Jobs...)
	}
	if len(f.jobs) != n {
		t.Fatalf("%d leased jobs, want %d", len(f.jobs), n)
	}
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func outcome(j *store.Job, status string, code int) store.Outcome {
	return store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: owner, Status: status,
		Attempt: slotwire.Attempt{At: time.Now(), StatusCode: code, DurationMS: 3}}
}

func (f *fixture) status(t *testing.T, j *store.Job) string {
	t.Helper()
	d, err := f.db.GetDelivery(context.Background(), f.tenant.ID, j.Delivery.ID)
	must(t, err)
	return d.Status
}

// counting is the real store, counting its Complete calls and failing the
// first fail of them.
type counting struct {
	*sqlite.DB
	calls atomic.Int32
	fail  int32
	delay time.Duration
}

func (c *counting) Complete(ctx context.Context, b store.CompleteBatch) ([]store.EndpointTransition, error) {
	if c.calls.Add(1) <= c.fail {
		return nil, errors.New("database is locked")
	}
	time.Sleep(c.delay)
	return c.DB.Complete(ctx, b)
}

// Each outcome is in the database when its recorded callback runs.
func TestRecordsOutcomes(t *testing.T) {
	f := setup(t, 3)
	c := completer.New(completer.Config{Store: f.db})
	c.Start(context.Background())
	defer c.Stop()
	statuses := []string{slotwire.StatusSucceeded, slotwire.StatusPending, slotwire.StatusFailed}
	for i, j := range f.jobs {
		recorded := make(chan struct{})
		c.Add(outcome(j, statuses[i], 500), func() { close(recorded) })
		<-recorded
		if got := f.status(t, j); got != statuses[i] {
			t.Errorf("delivery %d: status %s, want %s", i, got, statuses[i])
		}
		atts, err := f.db.ListAttempts(context.Background(), f.tenant.ID, j.Delivery.ID)
		must(t, err)
		if len(atts) != 1 || atts[0].StatusCode != 500 {
			t.Errorf("delivery %d: attempts %+v", i, atts)
		}
	}
}

// Outcomes that arrive while a batch is being written share the next
// transaction: far fewer writes than outcomes.
func TestGroupCommit(t *testing.T) {
	const n = 300
	f := setup(t, n)
	st := &counting{DB: f.db, delay: 20 * time.Millisecond}
	c := completer.New(completer.Config{Store: st})
	c.Start(context.Background())
	var wg sync.WaitGroup
	wg.Add(n)
	for _, j := range f.jobs {
		go func() { c.Add(outcome(j, slotwire.StatusSucceeded, 200), wg.Done) }()
	}
	wg.Wait()
	c.Stop()
	if calls := st.calls.Load(); calls > n/4 {
		t.Errorf("%d writes for %d outcomes", calls, n)
	}
	for _, j := range f.jobs {
		if s := f.status(t, j); s != slotwire.StatusSucceeded {
			t.Fatalf("status %s after Stop", s)
		}
	}
}

// Stop writes everything queued before it returns.
func TestStopDrains(t *testing.T) {
	const n = 50
	f := setup(t, n)
	c := completer.New(completer.Config{Store: f.db, MaxBatch: 7})
	c.Start(context.Background())
	var recorded atomic.Int32
	for _, j := range f.jobs {
		c.Add(outcome(j, slotwire.StatusSucceeded, 200), func() { recorded.Add(1) })
	}
	c.Stop()
	if got := recorded.Load(); got != n {
		t.Fatalf("%d of %d recorded at Stop", got, n)
	}
	for _, j := range f.jobs {
		if s := f.status(t, j); s != slotwire.StatusSucceeded {
			t.Fatalf("status %s after Stop", s)
		}
	}
}

// A database that fails for a while is retried; the outcome is not lost.
func TestRetriesFailingWrites(t *testing.T) {
	f := setup(t, 1)
	st := &counting{DB: f.db, fail: 2}
	c := completer.New(completer.Config{Store: st, RetryWait: time.Millisecond})
	c.Start(context.Background())
	done := make(chan struct{})
	c.Add(outcome(f.jobs[0], slotwire.StatusSucceeded, 200), func() { close(done) })
	<-done
	c.Stop()
	if calls := st.calls.Load(); calls != 3 {
		t.Errorf("%d writes, want 3", calls)
	}
	if s := f.status(t, f.jobs[0]); s != slotwire.StatusSucceeded {
		t.Fatalf("status %s", s)
	}
}

// A batch that keeps failing is given up (its leases expire and the
// deliveries are retried), and the callers are still released.
func TestGivesUp(t *testing.T) {
	f := setup(t, 1)
	st := &counting{DB: f.db, fail: 1000}
	c := completer.New(completer.Config{Store: st, Retries: 3, RetryWait: time.Millisecond})
	c.Start(context.Background())
	done := make(chan struct{})
	c.Add(outcome(f.jobs[0], slotwire.StatusSucceeded, 200), func() { close(done) })
	<-done
	c.Stop()
	if calls := st.calls.Load(); calls != 4 {
		t.Errorf("%d writes, want 4", calls)
	}
	if s := f.status(t, f.jobs[0]); s != slotwire.StatusInflight {
		t.Fatalf("status %s, want still inflight", s)
	}
}

// An outcome that disables its endpoint is reported after it was written.
func TestReportsTransitions(t *testing.T) {
	f := setup(t, 1)
	var got []store.EndpointTransition
	c := completer.New(completer.Config{Store: f.db, OnTransition: func(tr store.EndpointTransition) { got = append(got, tr) }})
	c.Start(context.Background())
	o := outcome(f.jobs[0], slotwire.StatusFailed, 410)
	o.DisableReason = "the endpoint answered 410 Gone"
	c.Add(o, nil)
	c.Stop()
	if len(got) != 1 || got[0].Kind != store.TransitionDisabled || got[0].EndpointID != f.ep.ID {
		t.Fatalf("transitions %+v", got)
	}
	ep, err := f.db.GetEndpoint(context.Background(), f.tenant.ID, f.ep.ID)
	must(t, err)
	if ep.Enabled {
		t.Fatal("endpoint still enabled")
	}
}

// Outcomes nobody waits for linger until the batch is full (or the linger
// is over), so a low rate still writes several per commit; an outcome
// somebody waits for is written at once, lingering or not.
func TestLinger(t *testing.T) {
	const n = 10
	f := setup(t, n+1)
	st := &counting{DB: f.db}
	c := completer.New(completer.Config{Store: st, MaxBatch: n, Linger: time.Hour})
	c.Start(context.Background())
	defer c.Stop()
	for _, j := range f.jobs[:n] {
		c.Add(outcome(j, slotwire.StatusSucceeded, 200), nil) // one by one, nobody waiting
	}
	recorded := make(chan struct{})
	c.Add(outcome(f.jobs[n], slotwire.StatusSucceeded, 200), func() { close(recorded) })
	select {
	case <-recorded:
	case <-time.After(30 * time.Second):
		t.Fatal("an awaited outcome waited for the linger")
	}
	if calls := st.calls.Load(); calls != 2 {
		t.Fatalf("%d writes, want 2: the %d lingering outcomes in one, the awaited one in another", calls, n)
	}
	for _, j := range f.jobs {
		if s := f.status(t, j); s != slotwire.StatusSucceeded {
			t.Fatalf("status %s", s)
		}
	}
}
