package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// concurrency tracks requests in flight at a receiver.
type concurrency struct {
	now, max atomic.Int64
}

func (c *concurrency) enter() {
	n := c.now.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (c *concurrency) leave() { c.now.Add(-1) }

func seqOf(body []byte) int {
	var b struct{ Data struct{ Seq int } }
	json.Unmarshal(body, &b)
	return b.Data.Seq
}

func TestFIFOOrderingWithRetries(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	var inflight concurrency
	var mu sync.Mutex
	var succeeded []int
	tries := map[int]int{}
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		inflight.enter()
		defer inflight.leave()
		seq := seqOf(mustBody(r))
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		tries[seq]++
		if seq%3 == 0 && tries[seq] == 1 {
			w.WriteHeader(http.StatusInternalServerError) // every third fails once
			return
		}
		succeeded = append(succeeded, seq)
		w.WriteHeader(200)
	})
	defer rc.Close()
	ctx := context.Background()
	fifo := slotwire.OrderingFIFO
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"booking.*"}, Ordering: &fifo}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := 1; i <= n; i++ {
		publish(t, c, "booking.created", map[string]any{"seq": i}, "")
	}
	e.eventually(func() bool { mu.Lock(); defer mu.Unlock(); return len(succeeded) == n })
	for i, s := range succeeded {
		if s != i+1 {
			t.Fatalf("received out of order: %v", succeeded)
		}
	}
	if m := inflight.max.Load(); m != 1 {
		t.Fatalf("fifo endpoint had %d requests in flight at once", m)
	}
}

func TestEndpointConcurrencyBound(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	var inflight concurrency
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		inflight.enter()
		defer inflight.leave()
		time.Sleep(10 * time.Millisecond)
		w.WriteHeader(200)
	})
	defer rc.Close()
	ctx := context.Background()
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"*"}, MaxConcurrency: ptr(3)}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		publish(t, c, "x.y", map[string]any{"i": i}, "")
	}
	if !rc.WaitCount(60, 20*time.Second) {
		t.Fatal("not all delivered")
	}
	if m := inflight.max.Load(); m > 3 || m < 2 {
		t.Fatalf("max in flight %d, want 3 (at most)", m)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	ctx := context.Background()
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"*"}, RateLimit: ptr(20)}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		publish(t, c, "x.y", map[string]any{"i": i}, "")
	}
	if !rc.WaitCount(30, 20*time.Second) {
		t.Fatal("not all delivered")
	}
	reqs := rc.Requests()
	// 30 requests at 20/s cannot arrive in less than 29/20 s (a lower bound:
	// a slow machine only makes it longer).
	if span := reqs[len(reqs)-1].At.Sub(reqs[0].At); span < 1400*time.Millisecond {
		t.Fatalf("30 requests in %s at 20/s", span)
	}
}

// A receiver that never answers only uses its own share: another endpoint's
// deliveries all arrive while its requests are still hanging.
func TestHungEndpointIsolated(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Timeout = 30 * time.Second
	e := start(t, cfg)
	c := e.tenant("Acme")
	release := make(chan struct{})
	var hung concurrency
	slow := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		hung.enter()
		defer hung.leave()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer slow.Close()
	defer close(release)
	fast := receiver.New(nil)
	defer fast.Close()
	ctx := context.Background()
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(slow.URL), EventTypes: &[]string{"*"}, MaxConcurrency: ptr(4)}); err != nil {
		t.Fatal(err)
	}
	endpoint(t, c, fast.URL, "*")
	for i := 0; i < 200; i++ {
		publish(t, c, "x.y", map[string]any{"i": i}, "")
	}
	if !fast.WaitCount(200, 20*time.Second) {
		t.Fatalf("healthy endpoint got %d of 200 while the other hangs", fast.Count())
	}
	if got := slow.Count(); got > 4 {
		t.Fatalf("hung endpoint received %d requests, its bound is 4", got)
	}
	if hung.max.Load() > 4 {
		t.Fatalf("hung endpoint had %d in flight", hung.max.Load())
	}
}

// Work leased by a node that died is taken over once the lease ends.
func TestLeaseReclaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	rc := receiver.New(nil)
	defer rc.Close()
	now := time.Now()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	must(t, db.CreateTenant(ctx, ten, nil))
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: rc.URL, EventTypes: []string{"*"},
		Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	must(t, db.CreateEndpoint(ctx, ep))
	b := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: "dead-node", LeaseUntil: now.Add(1500 * time.Millisecond)}
	for i := 0; i < 25; i++ {
		ev := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "x.y", Data: []byte(`{}`), CreatedAt: now}
		ev.Payload = ev.BuildPayload()
		b.Items = append(b.Items, &store.IngestItem{Event: ev, Targets: []store.Target{{Endpoint: ep, Leased: true}}})
	}
	must(t, db.Ingest(ctx, b))
	db.Close()

	cfg := fast()
	cfg.DB = path
	cfg.Delivery.Lease = 2 * time.Second
	cfg.Delivery.Timeout = 500 * time.Millisecond
	cfg.NodeID = "alive-node"
	start(t, cfg)
	time.Sleep(500 * time.Millisecond)
	if rc.Count() != 0 {
		t.Fatal("a live lease was taken over")
	}
	if !rc.WaitCount(25, 15*time.Second) {
		t.Fatalf("only %d of 25 delivered after the lease ended", rc.Count())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecoveredAndDisabledAfterFailingPeriod(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond,
		50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	cfg.Delivery.DisableAfter = 300 * time.Millisecond
	e := start(t, cfg)
	c := e.tenant("Acme")
	ops := receiver.New(nil)
	defer ops.Close()
	endpoint(t, c, ops.URL, "endpoint.*")
	var failing atomic.Bool
	failing.Store(true)
	flaky := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(200)
	})
	defer flaky.Close()
	dead := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	defer dead.Close()
	flakyID := endpoint(t, c, flaky.URL, "a.*")
	deadID := endpoint(t, c, dead.URL, "b.*")
	publish(t, c, "a.x", map[string]any{}, "")
	publish(t, c, "b.x", map[string]any{}, "")
	ctx := context.Background()
	e.eventually(func() bool {
		got, err := c.GetEndpoint(ctx, deadID)
		return err == nil && !got.Enabled && strings.Contains(got.DisabledReason, "failed")
	})
	seen := map[string]string{}
	ops.WaitFor(10*time.Second, func() bool {
		for _, r := range ops.Requests() {
			var b struct {
				Type string
				Data struct {
					EndpointID string `json:"endpoint_id"`
				}
			}
			json.Unmarshal(r.Body, &b)
			seen[b.Type+" "+b.Data.EndpointID] = b.Type
		}
		return seen["endpoint.recovered "+flakyID] != "" && seen["endpoint.disabled "+deadID] != ""
	})
	if seen["endpoint.recovered "+flakyID] == "" || seen["endpoint.disabled "+deadID] == "" {
		t.Fatalf("operational events seen: %v", seen)
	}
	if got, _ := c.GetEndpoint(ctx, flakyID); !got.Enabled || got.FailingSince != nil {
		t.Fatalf("recovered endpoint = %+v", got)
	}
}
