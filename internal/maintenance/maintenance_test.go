package maintenance_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/maintenance"
	"github.com/slotwire/slotwire/internal/pgtest"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// leased creates n deliveries leased to a node until leaseUntil and
// returns them.
func leased(t *testing.T, s store.Store, n int, now, leaseUntil time.Time) (*slotwire.Tenant, []*store.Job) {
	t.Helper()
	ctx := context.Background()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	must(t, s.CreateTenant(ctx, ten, nil))
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/h",
		EventTypes: []string{"*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	must(t, s.CreateEndpoint(ctx, ep))
	b := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: "dead-node", LeaseUntil: leaseUntil}
	for i := 0; i < n; i++ {
		e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "a.b", Data: []byte(`{}`), CreatedAt: now}
		e.Payload = e.BuildPayload()
		b.Items = append(b.Items, &store.IngestItem{Event: e})
	}
	must(t, fanout.Fill(ctx, s, b.Items))
	for _, it := range b.Items {
		for i := range it.Targets {
			it.Targets[i].Leased = true
		}
	}
	must(t, s.Ingest(ctx, b))
	var jobs []*store.Job
	for _, it := range b.Items {
		jobs = append(jobs, it.Jobs...)
	}
	return ten, jobs
}

func statuses(t *testing.T, s store.Store, ten *slotwire.Tenant, jobs []*store.Job) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, j := range jobs {
		d, err := s.GetDelivery(context.Background(), ten.ID, j.Delivery.ID)
		must(t, err)
		m[d.Status]++
	}
	return m
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Migrate: true})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Alone on a database without locks, a node is the leader and returns
// expired leases to the queue, but not leases still running.
func TestReclaimsExpiredLeases(t *testing.T) {
	db := openSQLite(t)
	now := time.Now()
	ten, expired := leased(t, db, 3, now, now.Add(time.Minute))
	_, running := leased(t, db, 2, now, now.Add(time.Hour))
	later := now.Add(2 * time.Minute)
	m := maintenance.New(maintenance.Config{Store: db, Locker: db.Capabilities().Locker, Now: func() time.Time { return later }, Interval: 20 * time.Millisecond})
	m.Start(context.Background())
	defer m.Stop()
	eventually(t, "expired leases reclaimed", func() bool {
		return statuses(t, db, ten, expired)[slotwire.StatusPending] == 3
	})
	if !m.Leader() {
		t.Error("a lone node is not the leader")
	}
	tenB := running[0].Endpoint.TenantID
	for _, j := range running {
		d, err := db.GetDelivery(context.Background(), tenB, j.Delivery.ID)
		must(t, err)
		if d.Status != slotwire.StatusInflight {
			t.Errorf("running lease reclaimed: %s", d.Status)
		}
	}
	m.Stop()
	if m.Leader() {
		t.Error("still leader after Stop")
	}
}

// Deliveries whose lease expires while the service runs are reclaimed at
// the next interval.
func TestReclaimsPeriodically(t *testing.T) {
	db := openSQLite(t)
	now := time.Now()
	ten, jobs := leased(t, db, 2, now, now.Add(time.Minute))
	var clock atomicTime
	clock.set(now)
	m := maintenance.New(maintenance.Config{Store: db, Now: clock.get, Interval: 20 * time.Millisecond})
	m.Start(context.Background())
	defer m.Stop()
	time.Sleep(60 * time.Millisecond)
	if n := statuses(t, db, ten, jobs)[slotwire.StatusInflight]; n != 2 {
		t.Fatalf("%d inflight before the lease ended, want 2", n)
	}
	clock.set(now.Add(2 * time.Minute))
	eventually(t, "reclaimed after expiry", func() bool {
		return statuses(t, db, ten, jobs)[slotwire.StatusPending] == 2
	})
}

// On PostgreSQL one node of several leads; when it stops, another takes
// over and does the maintenance.
func TestLeadershipMovesOnPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbs := []*postgres.DB{open(), open(), open()}
	var clock atomicTime
	now := time.Now()
	clock.set(now)
	var nodes []*maintenance.Service
	for _, db := range dbs {
		// Reclaim rarely, elect often, as the dispatcher does: a new
		// leader reclaims at once.
		m := maintenance.New(maintenance.Config{Store: db, Locker: db.Capabilities().Locker, Now: clock.get,
			Interval: time.Hour, ElectInterval: 20 * time.Millisecond})
		m.Start(context.Background())
		defer m.Stop()
		nodes = append(nodes, m)
	}
	leader := func() int {
		n, who := 0, -1
		for i, m := range nodes {
			if m.Leader() {
				n++
				who = i
			}
		}
		if n > 1 {
			t.Fatalf("%d leaders at once", n)
		}
		return who
	}
	eventually(t, "a leader elected", func() bool { return leader() >= 0 })
	first := leader()
	time.Sleep(100 * time.Millisecond)
	if leader() != first {
		t.Fatal("leadership moved while the leader ran")
	}
	// Leases expire; the leader has reclaimed within the hour already.
	ten, jobs := leased(t, dbs[0], 2, now, now.Add(time.Minute))
	clock.set(now.Add(2 * time.Minute))
	time.Sleep(60 * time.Millisecond)
	if n := statuses(t, dbs[0], ten, jobs)[slotwire.StatusInflight]; n != 2 {
		t.Fatalf("%d inflight before the interval, want 2", n)
	}

	nodes[first].Stop()
	eventually(t, "another node leads", func() bool { w := leader(); return w >= 0 && w != first })
	// The new leader does the maintenance at once.
	eventually(t, "the new leader reclaims", func() bool {
		return statuses(t, dbs[0], ten, jobs)[slotwire.StatusPending] == 2
	})
}
