package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the admin connection

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
	"github.com/slotwire/slotwire/internal/store/storetest"
)

// serverDSN is the server the tests create their databases on.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SLOTWIRE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SLOTWIRE_TEST_POSTGRES is not set: run `bash scripts/with-postgres.sh go test ./postgres/`, " +
			"or set it to a server the tests may create databases on, e.g. postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable")
	}
	return dsn
}

// admin runs a statement on the server's own database.
func admin(t *testing.T, dsn, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// freshDSN creates an empty database, dropped when the test ends, and
// returns its DSN.
func freshDSN(t *testing.T) string {
	t.Helper()
	dsn := serverDSN(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "sw_" + hex.EncodeToString(b[:])
	admin(t, dsn, `CREATE DATABASE `+name)
	t.Cleanup(func() { admin(t, dsn, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	return withDatabase(t, dsn, name)
}

func withDatabase(t *testing.T, dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("SLOTWIRE_TEST_POSTGRES: %v", err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // keyword/value form: the last one wins
}

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawDB is a plain database/sql handle on the test database, to check rows.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func TestConformance(t *testing.T) {
	t.Parallel()
	serverDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := postgres.Open(context.Background(), freshDSN(t), postgres.Options{Migrate: true, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestSchemaVersionChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := freshDSN(t)
	// An empty database without migration is refused as too old.
	_, err := postgres.Open(ctx, dsn, postgres.Options{})
	var se *store.SchemaError
	if !errors.As(err, &se) || se.Have != 0 || se.Want != sqlstore.Latest(postgres.Core, "postgres") {
		t.Fatalf("unmigrated open: %v", err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{Migrate: true})
	must(t, err)
	v, err := db.Applied(ctx)
	must(t, err)
	if want := sqlstore.Latest(postgres.Core, "postgres"); v[store.CoreModule] != want {
		t.Fatalf("core version = %d, want %d", v[store.CoreModule], want)
	}
	db.Close()
	// Reopening a migrated database needs no migration, and migrating
	// again changes nothing.
	db, err = postgres.Open(ctx, dsn, postgres.Options{})
	must(t, err)
	must(t, db.Migrate(ctx))
	db.Close()
	// A schema from the future is refused, with or without Migrate.
	raw, err := postgres.Open(ctx, dsn, postgres.Options{})
	must(t, err)
	must(t, raw.Exec(ctx, `INSERT INTO module_migrations (module, version, applied_at) VALUES ('core', 999, 0)`))
	raw.Close()
	for _, m := range []bool{false, true} {
		_, err = postgres.Open(ctx, dsn, postgres.Options{Migrate: m})
		if !errors.As(err, &se) || se.Have != 999 {
			t.Fatalf("future schema (migrate=%v): %v", m, err)
		}
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true, MaxConns: 2})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	var n, max int
	must(t, rawDB(t, dsn).QueryRow(`SELECT COUNT(*), MAX(version) FROM module_migrations WHERE module = 'core'`).Scan(&n, &max))
	// Each migration applied once (numbers may leave gaps).
	if max != sqlstore.Latest(postgres.Core, "postgres") || n != len(sqlstore.Migrations(postgres.Core, "postgres")) {
		t.Fatalf("module_migrations: %d rows, max %d", n, max)
	}
}

func TestOpenBadDSN(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://u:secret@[::1", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad DSN: %v", err)
	}
}

// fixture is a tenant with one endpoint.
type fixture struct {
	db  *postgres.DB
	dsn string
	ten *slotwire.Tenant
	ep  *slotwire.Endpoint
}

func newFixture(t *testing.T, ordering string) *fixture {
	t.Helper()
	dsn := freshDSN(t)
	db := open(t, dsn)
	ctx := context.Background()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "Acme", Plan: "professional", CreatedAt: t0}
	must(t, db.CreateTenant(ctx, ten, nil))
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/hook",
		EventTypes: []string{"*"}, Enabled: true, Headers: map[string]string{}, Secret: "whsec_x", Ordering: ordering,
		CreatedAt: t0, UpdatedAt: t0}
	must(t, db.CreateEndpoint(ctx, ep))
	return &fixture{db: db, dsn: dsn, ten: ten, ep: ep}
}

func (f *fixture) ingest(t *testing.T, n int) []*slotwire.Event {
	t.Helper()
	var evs []*slotwire.Event
	b := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour}
	for i := 0; i < n; i++ {
		e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: f.ten.ID, Type: "a.b",
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: t0}
		e.Payload = e.BuildPayload()
		evs = append(evs, e)
		b.Items = append(b.Items, &store.IngestItem{Event: e, Targets: []store.Target{{Endpoint: f.ep}}})
		if len(b.Items) == 100 || i == n-1 {
			must(t, f.db.Ingest(context.Background(), b))
			b.Items = nil
		}
	}
	return evs
}

func TestConcurrentClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t, slotwire.OrderingNone)
	const total = 500
	f.ingest(t, total)

	var mu sync.Mutex
	owners := map[string]string{} // delivery -> owner that claimed it
	var dup []string
	var claimed atomic.Int64
	deadline := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		owner := fmt.Sprintf("node-%d", g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for claimed.Load() < total && time.Now().Before(deadline) {
				jobs, err := f.db.Claim(context.Background(), store.ClaimRequest{EndpointID: f.ep.ID, Owner: owner,
					Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 7})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if _, ok := owners[j.Delivery.ID]; ok {
						dup = append(dup, j.Delivery.ID)
					}
					owners[j.Delivery.ID] = owner
					if j.Delivery.Status != slotwire.StatusInflight || len(j.Payload) == 0 || j.Endpoint.ID != f.ep.ID {
						errs <- fmt.Errorf("bad job %+v", j.Delivery)
					}
				}
				mu.Unlock()
				claimed.Add(int64(len(jobs)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(dup) > 0 {
		t.Fatalf("%d deliveries claimed twice, e.g. %s", len(dup), dup[0])
	}
	if len(owners) != total || claimed.Load() != total {
		t.Fatalf("claimed %d distinct of %d returned, want %d", len(owners), claimed.Load(), total)
	}
	// The database agrees on who holds each lease.
	rows, err := rawDB(t, f.dsn).Query(`SELECT id, status, lease_owner FROM deliveries`)
	must(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, status string
		var owner sql.NullString
		must(t, rows.Scan(&id, &status, &owner))
		if status != slotwire.StatusInflight || owner.String != owners[id] {
			t.Fatalf("delivery %s: %s leased to %q, claimed by %q", id, status, owner.String, owners[id])
		}
		n++
	}
	must(t, rows.Err())
	if n != total {
		t.Fatalf("%d deliveries stored", n)
	}
}

func TestConcurrentClaimFIFO(t *testing.T) {
	t.Parallel()
	f := newFixture(t, slotwire.OrderingFIFO)
	const total = 30
	evs := f.ingest(t, total)

	var (
		inflight atomic.Int32
		mu       sync.Mutex
		order    []string // event ids in the order they were leased
		done     atomic.Int32
	)
	deadline := time.Now().Add(time.Minute)
	errs := make(chan error, 3*total)
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		owner := fmt.Sprintf("node-%d", g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for done.Load() < total && time.Now().Before(deadline) {
				jobs, err := f.db.Claim(ctx, store.ClaimRequest{EndpointID: f.ep.ID, Owner: owner,
					Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10, FIFO: true})
				if err != nil {
					errs <- err
					return
				}
				if len(jobs) == 0 {
					continue
				}
				if len(jobs) != 1 {
					errs <- fmt.Errorf("FIFO claim returned %d jobs", len(jobs))
					return
				}
				if n := inflight.Add(1); n != 1 {
					errs <- fmt.Errorf("%d FIFO deliveries in flight at once", n)
				}
				mu.Lock()
				if want := evs[len(order)].ID; jobs[0].Delivery.EventID != want {
					errs <- fmt.Errorf("leased event %s as #%d, want head %s", jobs[0].Delivery.EventID, len(order), want)
				}
				order = append(order, jobs[0].Delivery.EventID)
				mu.Unlock()
				// Nobody else can lease until the head is completed.
				inflight.Add(-1)
				_, err = f.db.Complete(ctx, store.CompleteBatch{Now: t0, Outcomes: []store.Outcome{{DeliveryID: jobs[0].Delivery.ID,
					EndpointID: f.ep.ID, Owner: owner, Status: slotwire.StatusSucceeded, Attempt: slotwire.Attempt{At: t0, StatusCode: 200}}}})
				if err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(order) != total {
		t.Fatalf("delivered %d of %d", len(order), total)
	}
}

// TestIngestIdempotencyRace ingests the same idempotency key from several
// nodes at once: one event is stored, every other batch succeeds and
// reports a duplicate of it.
func TestIngestIdempotencyRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, slotwire.OrderingNone)
	const nodes = 6
	for round := 0; round < 10; round++ {
		key := fmt.Sprintf("key-%d", round)
		batches := make([]*store.IngestBatch, nodes)
		for i := range batches {
			b := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour}
			for _, k := range []string{"", key, key} {
				e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: f.ten.ID, Type: "a.b",
					Data: []byte(`{}`), IdempotencyKey: k, CreatedAt: t0}
				e.Payload = e.BuildPayload()
				b.Items = append(b.Items, &store.IngestItem{Event: e, Targets: []store.Target{{Endpoint: f.ep}}})
			}
			batches[i] = b
		}
		start := make(chan struct{})
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i, b := range batches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = f.db.Ingest(context.Background(), b)
			}()
		}
		close(start)
		wg.Wait()
		var winners []string
		for i, b := range batches {
			must(t, errs[i])
			if b.Items[0].Duplicate || b.Items[0].Deliveries != 1 {
				t.Fatalf("unkeyed event: %+v", b.Items[0])
			}
			if !b.Items[2].Duplicate || b.Items[2].Event.ID != b.Items[1].Event.ID {
				t.Fatalf("in-batch duplicate: %+v / %+v", b.Items[1], b.Items[2])
			}
			if !b.Items[1].Duplicate {
				winners = append(winners, b.Items[1].Event.ID)
				if b.Items[1].Deliveries != 1 {
					t.Fatalf("winner: %+v", b.Items[1])
				}
			} else if b.Items[1].Deliveries != 0 {
				t.Fatalf("duplicate with deliveries: %+v", b.Items[1])
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d events stored for one key", round, len(winners))
		}
		for _, b := range batches {
			if b.Items[1].Event.ID != winners[0] {
				t.Fatalf("duplicate points at %s, want %s", b.Items[1].Event.ID, winners[0])
			}
		}
	}
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case id, ok := <-ch:
		if !ok {
			t.Fatal("listen channel closed")
		}
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	return ""
}

func TestNotifier(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	a, b := open(t, dsn), open(t, dsn) // two nodes
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chA, err := a.ListenWork(ctx)
	must(t, err)
	chB, err := b.ListenWork(ctx)
	must(t, err)
	must(t, a.NotifyWork(ctx, []string{"ep_1", "ep_2"}))
	must(t, a.NotifyWork(ctx, nil))
	for _, ch := range []<-chan string{chA, chB} {
		if x, y := receive(t, ch), receive(t, ch); x != "ep_1" || y != "ep_2" {
			t.Fatalf("got %s, %s", x, y)
		}
	}

	// The listener comes back after its connection is killed.
	raw := rawDB(t, dsn)
	res, err := raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
	must(t, err)
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("terminated %d listeners, want 2", n)
	}
	deadline := time.Now().Add(20 * time.Second)
	for got := false; !got; {
		if time.Now().After(deadline) {
			t.Fatal("listener did not reconnect")
		}
		must(t, b.NotifyWork(ctx, []string{"ep_3"}))
		select {
		case id := <-chA:
			got = id == "ep_3"
		case <-time.After(200 * time.Millisecond):
		}
	}

	// The channel closes when the context ends.
	cancel()
	timeout := time.After(10 * time.Second)
	for _, ch := range []<-chan string{chA, chB} {
		for open := true; open; {
			select {
			case _, open = <-ch:
			case <-timeout:
				t.Fatal("listen channel not closed after cancel")
			}
		}
	}
}

func TestLocker(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	release, ok, err := a.TryLock(ctx, "retention")
	must(t, err)
	if !ok {
		t.Fatal("first TryLock failed")
	}
	for _, db := range []*postgres.DB{a, b} {
		if r, ok, err := db.TryLock(ctx, "retention"); err != nil || ok {
			if r != nil {
				r()
			}
			t.Fatalf("second TryLock while held: ok=%v err=%v", ok, err)
		}
	}
	other, ok, err := b.TryLock(ctx, "reminders")
	must(t, err)
	if !ok {
		t.Fatal("another lock name is blocked")
	}
	other()
	release()
	release() // idempotent
	again, ok, err := b.TryLock(ctx, "retention")
	must(t, err)
	if !ok {
		t.Fatal("TryLock after release failed")
	}
	// The lock goes with its connection.
	raw := rawDB(t, dsn)
	_, err = raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	must(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, ok, err := a.TryLock(ctx, "retention")
		must(t, err)
		if ok {
			r()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock survived its connection")
		}
		time.Sleep(50 * time.Millisecond)
	}
	again() // releasing a lock whose connection died is harmless
}

func TestRebind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`SELECT 1`: `SELECT 1`,
		`SELECT * FROM t WHERE a = ? AND b IN (?, ?)`:  `SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)`,
		`UPDATE t SET s = 'what?' WHERE id = ?`:        `UPDATE t SET s = 'what?' WHERE id = $1`,
		`SELECT 'it''s ?', ? FROM "we?ird"`:            `SELECT 'it''s ?', $1 FROM "we?ird"`,
		`INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`: `INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		`SELECT ''; SELECT ?`:                          `SELECT ''; SELECT $1`,
	} {
		if got := postgres.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkIngest measures group commits of 100 events fanned out to two
// endpoints.
func BenchmarkIngest(b *testing.B) {
	dsn := os.Getenv("SLOTWIRE_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("SLOTWIRE_TEST_POSTGRES is not set")
	}
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	name := "sw_" + hex.EncodeToString(rb[:])
	adm, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	if _, err := adm.Exec(`CREATE DATABASE ` + name); err != nil {
		b.Fatal(err)
	}
	defer adm.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	ctx := context.Background()
	db, err := postgres.Open(ctx, u.String(), postgres.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "Acme", Plan: "p", CreatedAt: t0}
	if err := db.CreateTenant(ctx, ten, nil); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/",
			EventTypes: []string{"*"}, Enabled: true, Secret: "s", CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour}
		for k := 0; k < 100; k++ {
			e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "a.b",
				Data: []byte(`{"n":1}`), IdempotencyKey: fmt.Sprintf("k-%d-%d", i, k), CreatedAt: t0}
			e.Payload = e.BuildPayload()
			batch.Items = append(batch.Items, &store.IngestItem{Event: e})
		}
		if err := fanout.Fill(ctx, db, batch.Items); err != nil {
			b.Fatal(err)
		}
		if err := db.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
