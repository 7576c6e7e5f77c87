package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/pgtest"
	"github.com/slotwire/slotwire/internal/receiver"
)

func migrate(t *testing.T, dsn string) {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "migrate", "--db", dsn).CombinedOutput()
	if err != nil {
		t.Fatalf("slotwire migrate: %v\n%s", err, out)
	}
}

func TestServeRefusesUnmigratedPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(bin, "serve", "--db", dsn, "--addr", freeAddr(t))
	out, err := serve.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SLOTWIRE_SECRET_KEY") {
		t.Fatalf("serve on PostgreSQL without a key: %v\n%s", err, out)
	}
	serve = exec.Command(bin, "serve", "--db", dsn, "--addr", freeAddr(t))
	serve.Env = append(os.Environ(), "SLOTWIRE_SECRET_KEY="+testSecretKey)
	out, err = serve.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "slotwire migrate") {
		t.Fatalf("serve on an empty database: %v\n%s", err, out)
	}
	migrate(t, dsn)
	migrate(t, dsn) // idempotent
}

type cluster struct {
	procs []*proc
	urls  []string
	key   string
}

// startCluster runs n slotwire processes on one PostgreSQL database.
func startCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	dsn := pgtest.Database(t)
	migrate(t, dsn)
	c := &cluster{}
	for i := 0; i < n; i++ {
		addr := freeAddr(t)
		args := append([]string{"--node-id", "node-" + string(rune('a'+i)), "--lease", "3s", "--delivery-timeout", "1s",
			"--poll-interval", "200ms"}, extra...)
		c.procs = append(c.procs, startProc(t, dsn, addr, args...))
		c.urls = append(c.urls, "http://"+addr)
	}
	ten, err := client.New(c.urls[0], "adm").CreateTenant(context.Background(), "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c.key = ten.APIKey
	return c
}

func (c *cluster) client(i int) *client.Client {
	cl := client.New(c.urls[i], c.key)
	cl.HTTP = &http.Client{Timeout: 10 * time.Second}
	return cl
}

// Three nodes share the work; one is SIGKILLed in the middle; the others
// finish its work after its lease, and nothing is lost.
func TestThreeNodesSurviveAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 3)
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		w.WriteHeader(200)
	})
	defer rc.Close()
	ctx := context.Background()
	url, types := rc.URL, []string{"*"}
	if _, err := cl.client(0).CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types}); err != nil {
		t.Fatal(err)
	}
	const total = 6000
	var accepted sync.Map
	var nAccepted, next atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 12; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				node := int(i % 3)
				if killed.Load() && node == 2 {
					node = int(i % 2)
				}
				a, err := cl.client(node).Publish(ctx, "booking.created", map[string]any{"n": i}, "")
				if err != nil {
					if node != 2 {
						t.Errorf("publish to a live node: %v", err)
					}
					continue
				}
				accepted.Store(a.ID, true)
				if nAccepted.Add(1) == total/2 && killed.CompareAndSwap(false, true) {
					cl.procs[2].cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}(w)
	}
	wg.Wait()
	n := int(nAccepted.Load())
	missingNow := func() int {
		ids := rc.IDs()
		missing := 0
		accepted.Range(func(k, _ any) bool {
			if ids[k.(string)] == 0 {
				missing++
			}
			return true
		})
		return missing
	}
	ok := rc.WaitFor(90*time.Second, func() bool { return missingNow() == 0 })
	dups := 0
	for _, c := range rc.IDs() {
		dups += c - 1
	}
	t.Logf("3 nodes, node-c killed after %d accepted: %d accepted in all, %d missing, %d duplicate deliveries", total/2, n, missingNow(), dups)
	if !ok {
		t.Fatalf("%d accepted events never delivered", missingNow())
	}
	// Duplicates can only come from what node-c had sent but not yet
	// recorded: its requests in flight (at most its endpoint concurrency, 8)
	// and one batch of outcomes waiting to be written.
	if dups > 8+1024 {
		t.Fatalf("%d duplicates is more than node-c can have had in flight", dups)
	}
}

// FIFO order holds when three nodes serve one ordered endpoint.
func TestFIFOAcrossThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 3)
	var mu sync.Mutex
	var order []int
	tries := map[int]int{}
	var now, max atomic.Int64
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if c := now.Add(1); c > max.Load() {
			max.Store(c)
		}
		defer now.Add(-1)
		var b struct{ Data struct{ Seq int } }
		var body []byte
		body, _ = readAll(r)
		json.Unmarshal(body, &b)
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		tries[b.Data.Seq]++
		if b.Data.Seq%4 == 0 && tries[b.Data.Seq] == 1 {
			w.WriteHeader(503)
			return
		}
		order = append(order, b.Data.Seq)
		w.WriteHeader(200)
	})
	defer rc.Close()
	ctx := context.Background()
	url, types, fifo := rc.URL, []string{"booking.*"}, "fifo"
	if _, err := cl.client(0).CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types, Ordering: &fifo}); err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := 1; i <= n; i++ {
		if _, err := cl.client(i%3).Publish(ctx, "booking.created", map[string]any{"seq": i}, ""); err != nil {
			t.Fatal(err)
		}
	}
	ok := rc.WaitFor(60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) >= n })
	mu.Lock()
	defer mu.Unlock()
	if !ok {
		t.Fatalf("only %d of %d delivered: %v", len(order), n, order)
	}
	for i, s := range order {
		if s != i+1 {
			t.Fatalf("out of order across nodes: %v", order)
		}
	}
	if max.Load() != 1 {
		t.Fatalf("%d requests in flight at once to a fifo endpoint", max.Load())
	}
}

func readAll(r *http.Request) ([]byte, error) {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String()), nil
		}
	}
}

// An endpoint's concurrency bound and rate limit hold across nodes.
func TestLimitsAcrossThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 3)
	var now, max atomic.Int64
	bounded := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if c := now.Add(1); c > max.Load() {
			max.Store(c)
		}
		defer now.Add(-1)
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(200)
	})
	defer bounded.Close()
	limited := receiver.New(nil)
	defer limited.Close()
	ctx := context.Background()
	bu, lu := bounded.URL, limited.URL
	if _, err := cl.client(0).CreateEndpoint(ctx, client.EndpointInput{URL: &bu, EventTypes: &[]string{"bounded.x"}, MaxConcurrency: ptrInt(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client(0).CreateEndpoint(ctx, client.EndpointInput{URL: &lu, EventTypes: &[]string{"limited.x"}, RateLimit: ptrInt(30)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for node := 0; node < 3; node++ {
		wg.Add(1)
		go func(node int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if _, err := cl.client(node).Publish(ctx, "bounded.x", map[string]any{"i": i}, ""); err != nil {
					t.Error(err)
				}
				if i < 20 {
					if _, err := cl.client(node).Publish(ctx, "limited.x", map[string]any{"i": i}, ""); err != nil {
						t.Error(err)
					}
				}
			}
		}(node)
	}
	wg.Wait()
	if !bounded.WaitCount(300, 60*time.Second) || !limited.WaitCount(60, 60*time.Second) {
		t.Fatalf("delivered %d/300 and %d/60", bounded.Count(), limited.Count())
	}
	if m := max.Load(); m > 4 {
		t.Fatalf("%d requests in flight at once across nodes, the bound is 4", m)
	}
	reqs := limited.Requests()
	// 60 requests at 30/s across all nodes take at least 59/30 s.
	if span := reqs[len(reqs)-1].At.Sub(reqs[0].At); span < 1900*time.Millisecond {
		t.Fatalf("60 requests in %s: the 30/s limit did not hold across nodes", span)
	}
	t.Logf("max in flight across 3 nodes: %d (bound 4)", max.Load())
}

func ptrInt(v int) *int { return &v }

// API-only and worker-only nodes split the work: events published to the
// API node are delivered by the worker.
func TestRolesSplitAPIAndDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two slotwire processes")
	}
	t.Parallel()
	dsn := pgtest.Database(t)
	migrate(t, dsn)
	apiAddr := freeAddr(t)
	startProc(t, dsn, apiAddr, "--role", "api", "--node-id", "api-1")
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	worker := exec.Command(bin, "serve", "--db", dsn, "--role", "worker", "--node-id", "worker-1", "--allow-private-endpoints",
		"--addr", freeAddr(t))
	worker.Env = append(os.Environ(), "SLOTWIRE_SECRET_KEY="+testSecretKey)
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { worker.Process.Kill(); worker.Wait() })
	ctx := context.Background()
	ten, err := client.New("http://"+apiAddr, "adm").CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://"+apiAddr, ten.APIKey)
	rc := receiver.New(nil)
	defer rc.Close()
	url, types := rc.URL, []string{"*"}
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := c.Publish(ctx, "booking.created", map[string]any{"i": i}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if !rc.WaitCount(50, 30*time.Second) {
		t.Fatalf("worker delivered %d of 50", rc.Count())
	}
}

// Ordering keys hold across three nodes, with retries, and when one node
// is SIGKILLed in the middle: each key's deliveries arrive one at a time
// in publish order (a redelivery of what the dead node had in flight is
// allowed), and different keys go in parallel.
func TestKeyOrderingAcrossNodesWithAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 3)
	ko := receiver.NewKeyOrder(5, 2*time.Millisecond)
	rc := receiver.New(ko.Handle)
	defer rc.Close()
	ctx := context.Background()
	url, types, ordering, conc := rc.URL, []string{"visit.*"}, client.OrderingKey, 16
	if _, err := cl.client(0).CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types,
		Ordering: &ordering, MaxConcurrency: &conc}); err != nil {
		t.Fatal(err)
	}
	const keys, n = 30, 20
	var names []string
	var published atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for k := 0; k < keys; k++ {
		key := "apt_" + string(rune('A'+k/26)) + string(rune('a'+k%26))
		names = append(names, key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; seq <= n; seq++ {
				in := client.EventInput{Type: "visit.updated", OrderingKey: key,
					IdempotencyKey: key + "/" + string(rune('0'+seq/10)) + string(rune('0'+seq%10)),
					Data:           json.RawMessage(`{"key":"` + key + `","seq":` + itoa(seq) + `}`)}
				for node := seq % 3; ; node = 0 {
					if killed.Load() && node == 2 {
						continue
					}
					_, err := cl.client(node).PublishEvent(ctx, in)
					if err == nil {
						break
					}
					if node != 2 {
						t.Errorf("publish to a live node: %v", err)
						return
					}
				}
				if published.Add(1) == keys*n/2 && killed.CompareAndSwap(false, true) {
					cl.procs[2].cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if !rc.WaitFor(90*time.Second, func() bool { return ko.Done(names, n) }) {
		t.Fatalf("not every key was delivered up to seq %d", n)
	}
	if v := ko.Violations(); len(v) > 0 {
		t.Fatalf("%d ordering violations, first: %s", len(v), v[0])
	}
	if m := ko.MaxInflight(); m < 2 {
		t.Fatalf("at most %d request in flight: keys were not sent in parallel", m)
	}
	t.Logf("%d keys x %d events over 3 nodes, one killed: %d requests, max %d in flight", keys, n, rc.Count(), ko.MaxInflight())
}

func itoa(i int) string { return strconv.Itoa(i) }

// An endpoint created on one node gets the next event published on
// another node, whose fan-out cache knew the tenant without it.
func TestEndpointChangeSeenAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 2)
	ctx := context.Background()
	first, second := receiver.New(nil), receiver.New(nil)
	defer first.Close()
	defer second.Close()
	for i, rc := range []*receiver.Receiver{first, second} {
		url, types := rc.URL, []string{"visit.*"}
		if _, err := cl.client(i).CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Node 0 fans out (and caches) the tenant with one endpoint.
			if _, err := cl.client(0).Publish(ctx, "visit.created", map[string]int{"n": 0}, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, err := cl.client(0).Publish(ctx, "visit.created", map[string]int{"n": 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !second.WaitFor(30*time.Second, func() bool { return second.IDs()[a.ID] == 1 }) {
		t.Fatal("an endpoint created on node 1 did not get an event published on node 0 after it")
	}
}

// A key revoked on one node answers 401 on its next request to another
// node, even a publish there that its key cache would have let through.
func TestRevokedKeyAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 2)
	ctx := context.Background()
	var k struct {
		ID  string `json:"id"`
		Key string `json:"api_key"`
	}
	if err := cl.client(0).Do(ctx, "POST", "/v1/api-keys", map[string]any{"name": "zapier", "scopes": []string{"custom"}}, &k); err != nil {
		t.Fatal(err)
	}
	onB := client.New(cl.urls[1], k.Key)
	if _, err := onB.Publish(ctx, "invoice.paid", map[string]int{"n": 1}, ""); err != nil {
		t.Fatal(err) // node 1 now has the key in its cache
	}
	if err := cl.client(0).Do(ctx, "DELETE", "/v1/api-keys/"+k.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, try := range []func() error{
		func() error { _, err := onB.Publish(ctx, "invoice.paid", map[string]int{"n": 2}, ""); return err },
		func() error {
			_, err := onB.PublishBatch(ctx, []client.EventInput{{Type: "invoice.paid", Data: json.RawMessage(`{"n":3}`)}})
			return err
		},
		func() error { _, err := onB.ListEndpoints(ctx, "", 10); return err },
	} {
		var ce *client.Error
		if err := try(); !errors.As(err, &ce) || ce.Status != 401 {
			t.Fatalf("a revoked key on the other node: %v, want 401", err)
		}
	}
}

// Two nodes on one PostgreSQL database list each other (GET /v1/nodes on
// either); the one stopped with SIGTERM removes its row.
func TestNodesListEachOther(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two slotwire processes")
	}
	t.Parallel()
	cl := startCluster(t, 2)
	ctx := context.Background()
	ids := func(i int) []string {
		t.Helper()
		ns, err := client.New(cl.urls[i], "adm").ListNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range ns {
			if !n.Alive || n.Role != "all" || n.Version == "" {
				t.Fatalf("node %+v", n)
			}
			out = append(out, n.ID)
		}
		return out
	}
	for i := range 2 {
		if got := strings.Join(ids(i), ","); got != "node-a,node-b" {
			t.Fatalf("nodes seen from node %d: %s", i, got)
		}
	}
	if err := cl.procs[1].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cl.procs[1].cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if got := strings.Join(ids(0), ","); got != "node-a" {
		t.Fatalf("nodes after node-b stopped: %s", got)
	}
}
