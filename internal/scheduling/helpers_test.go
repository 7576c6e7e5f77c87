package scheduling_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
	"github.com/slotwire/slotwire/signature"
)

// t0 is "now" in tests unless a test moves the clock.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// at returns an RFC 3339 time on day d (0 = t0's day) at hour h.
func at(d int, h float64) string {
	return t0.Truncate(24*time.Hour).AddDate(0, 0, d).Add(time.Duration(h * float64(time.Hour))).Format(time.RFC3339)
}

// testStore is what the tests need of a driver.
type testStore = store.Store

// openStore opens a fresh migrated store; SQLite by default, PostgreSQL
// with -tags postgres (see postgres_test.go).
var openStore = func(t *testing.T) testStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "slotwire.db"), sqlite.Options{Migrate: true, Modules: []store.Module{scheduling.Module}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type env struct {
	t   *testing.T
	db  testStore
	svc *scheduling.Service
	srv *httptest.Server
	api *api.Server

	mu      sync.Mutex
	now     time.Time
	failOp  string   // BeforeCommit fails this operation
	woken   []string // endpoint ids passed to Wake
	tenants []string

	tenant string // first tenant
	key    string
}

type envOption func(*scheduling.Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	db := openStore(t)
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, now: t0}
	cfg := scheduling.Config{
		Store: db,
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.now
		},
		Wake: func(ids ...string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.woken = append(e.woken, ids...)
		},
		BeforeCommit: func(op string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if op == e.failOp {
				return fmt.Errorf("injected failure before commit of %s", op)
			}
			return nil
		},
	}
	cfg.EndpointOffsets = sqlstore.EndpointOffsets
	for _, o := range opts {
		o(&cfg)
	}
	e.svc = scheduling.New(cfg)
	e.api = api.New(api.Config{Store: db, ValidateEvent: scheduling.ValidateEvent,
		Catalogs: func() []api.Catalog { return []api.Catalog{scheduling.CatalogSource{}} },
		OffsetsChanged: func(ctx context.Context, tenantID string) {
			if err := e.svc.ResyncTimers(ctx, tenantID); err != nil {
				t.Error(err)
			}
		}})
	e.svc.Register(e.api)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	e.tenant, e.key = e.newTenant("Kine Centrum")
	// Every event any test produced must match its catalog schema.
	t.Cleanup(e.checkEventSchemas)
	return e
}

func (e *env) setNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

func (e *env) failBeforeCommit(op string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failOp = op
}

func (e *env) newTenant(name string) (id, key string) {
	e.t.Helper()
	id = slotwire.NewID(slotwire.PrefixTenant)
	key = api.GenerateAPIKey()
	err := e.db.CreateTenant(context.Background(), &slotwire.Tenant{ID: id, Name: name, Plan: "pro", CreatedAt: t0},
		&slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: id, Hash: api.HashKey(key), Prefix: key[:8], Scopes: []string{slotwire.ScopeAdmin}, CreatedAt: t0})
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.tenants = append(e.tenants, id)
	e.mu.Unlock()
	return id, key
}

type resp struct {
	status int
	body   []byte
}

func (r resp) obj() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (r resp) id() string { s, _ := r.obj()["id"].(string); return s }

func (r resp) code() string {
	var b httpx.ErrorBody
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r resp) message() string {
	var b httpx.ErrorBody
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Message
}

// request sends a request with the given key; body may be a string (sent
// as is), nil or any value (sent as JSON).
func (e *env) request(t *testing.T, key, method, path string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, body: b}
}

// do sends a request as the first tenant.
func (e *env) do(t *testing.T, method, path string, body any) resp {
	t.Helper()
	return e.request(t, e.key, method, path, body)
}

// must sends a request and fails the test unless the status is want.
func (e *env) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	r := e.do(t, method, path, body)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r.obj()
}

// create POSTs and returns the new object's id.
func (e *env) create(t *testing.T, path string, body any) string {
	t.Helper()
	return e.must(t, http.StatusCreated, "POST", path, body)["id"].(string)
}

// wantError checks an error response.
func wantError(t *testing.T, r resp, status int, code, msgPart string) {
	t.Helper()
	if r.status != status || r.code() != code || !strings.Contains(r.message(), msgPart) {
		t.Fatalf("got %d %s %q, want %d %s containing %q (body %s)", r.status, r.code(), r.message(), status, code, msgPart, r.body)
	}
}

// query runs read-only SQL in a read transaction of the store.
func (e *env) query(t *testing.T, fn func(tx store.ReadTx, d store.Dialect) error) {
	t.Helper()
	err := e.db.Read(context.Background(), func(ctx context.Context, tx store.ReadTx) error {
		return fn(tx, tx.Dialect())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	e.query(t, func(tx store.ReadTx, d store.Dialect) error {
		return tx.QueryRowContext(context.Background(), d.Rebind(q), args...).Scan(&n)
	})
	return n
}

// events returns a tenant's events, oldest first, as stored.
func (e *env) eventsOf(t *testing.T, tenantID string) []*slotwire.Event {
	t.Helper()
	var ids []string
	e.query(t, func(tx store.ReadTx, d store.Dialect) error {
		rows, err := tx.QueryContext(context.Background(), d.Rebind(`SELECT id FROM events WHERE tenant_id = ? ORDER BY id`), tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	out := make([]*slotwire.Event, 0, len(ids))
	for _, id := range ids {
		ev, err := e.db.GetEvent(context.Background(), tenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// eventTypes returns the types of the first tenant's events, oldest first.
func (e *env) eventTypes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, ev := range e.eventsOf(t, e.tenant) {
		out = append(out, ev.Type)
	}
	return out
}

// lastEvent returns the data of the first tenant's newest event of a type.
func (e *env) lastEvent(t *testing.T, typ string) map[string]any {
	t.Helper()
	evs := e.eventsOf(t, e.tenant)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			var m map[string]any
			if err := json.Unmarshal(evs[i].Data, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s event among %v", typ, e.eventTypes(t))
	return nil
}

func (e *env) countEvents(t *testing.T, typ string) int {
	t.Helper()
	return e.count(t, `SELECT COUNT(*) FROM events WHERE tenant_id = ? AND type = ?`, e.tenant, typ)
}

func (e *env) checkEventSchemas() {
	t := e.t
	e.mu.Lock()
	tenants := append([]string(nil), e.tenants...)
	e.mu.Unlock()
	for _, tn := range tenants {
		for _, ev := range e.eventsOf(t, tn) {
			if scheduling.LookupEventType(ev.Type) == nil {
				t.Errorf("event %s has type %s, which is not in the catalog", ev.ID, ev.Type)
				continue
			}
			if err := scheduling.ValidateEvent(ev.Type, ev.Data); err != nil {
				t.Errorf("event %s (%s) does not match its schema: %v\n%s", ev.ID, ev.Type, err, ev.Data)
			}
		}
	}
}

func (e *env) createEndpoint(t *testing.T, url string, types ...string) *slotwire.Endpoint {
	t.Helper()
	ep := &slotwire.Endpoint{
		ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: e.tenant, URL: url, EventTypes: types, Enabled: true,
		Headers: map[string]string{}, Secret: signature.NewSecret(slotwire.RandomToken(32)), CreatedAt: t0, UpdatedAt: t0,
	}
	if err := e.db.CreateEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

// get walks a decoded JSON value: get(m, "customer", "name").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// fixture builds a typical tenant: a person and a room, a service in a
// group, a customer.
type fixture struct {
	person, room, group, service, customer string
}

func (e *env) fixture(t *testing.T) fixture {
	t.Helper()
	var f fixture
	f.person = e.create(t, "/v1/resources", map[string]any{"name": "An Peeters", "kind": "person", "email": "an@example.com", "timezone": "Europe/Brussels"})
	f.room = e.create(t, "/v1/resources", map[string]any{"name": "Room 2", "kind": "room"})
	f.group = e.create(t, "/v1/service-groups", map[string]any{"name": "Physio"})
	f.service = e.create(t, "/v1/services", map[string]any{"name": "Intake", "duration_minutes": 45, "price": 45.5, "currency": "EUR", "service_group_id": f.group})
	f.customer = e.create(t, "/v1/customers", map[string]any{"name": "Jan Janssens", "email": "jan@example.com", "phone": "+32 470 12 34 56", "locale": "nl-BE"})
	return f
}

func (e *env) book(t *testing.T, start, end string, resources ...string) resp {
	t.Helper()
	return e.do(t, "POST", "/v1/appointments", map[string]any{"start": start, "end": end, "resource_ids": resources})
}
