package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/pgtest"
	"github.com/slotwire/slotwire/internal/receiver"
)

// restartLoad publishes events to the nodes in turn until stop is
// closed, each event retried (same idempotency key) until it is accepted.
type restartLoad struct {
	accepted         sync.Map
	codes            sync.Map // error code -> *atomic.Int64
	nAccepted, tries atomic.Int64
}

func (l *restartLoad) count(code string) {
	v, _ := l.codes.LoadOrStore(code, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (l *restartLoad) run(t *testing.T, clients []*client.Client, workers int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				in := client.EventInput{Type: "visit.created", IdempotencyKey: fmt.Sprintf("w%d-%d", w, i),
					Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}
				for try := 0; ; try++ {
					select {
					case <-stop:
						return
					default:
					}
					a, err := clients[(w+i+try)%len(clients)].PublishEvent(context.Background(), in)
					l.tries.Add(1)
					if err == nil {
						l.accepted.Store(a.ID, true)
						l.nAccepted.Add(1)
						break
					}
					var ce *client.Error
					if errors.As(err, &ce) {
						l.count(ce.Code)
					} else {
						l.count("transport: " + err.Error())
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(w)
	}
	wg.Wait()
}

// The PostgreSQL server restarts under load: the nodes answer 503 while it
// is down, reconnect on their own, and every accepted event is delivered.
// The pause in delivery is logged (the closing note of issue 9 reports it).
func TestPostgresRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs its own PostgreSQL server and two slotwire processes")
	}
	t.Parallel()
	pg := pgtest.NewCluster(t)
	migrate(t, pg.DSN)
	var urls []string
	for _, id := range []string{"node-a", "node-b"} {
		addr := freeAddr(t)
		startProc(t, pg.DSN, addr, "--node-id", id, "--lease", "3s", "--delivery-timeout", "1s", "--poll-interval", "200ms")
		urls = append(urls, "http://"+addr)
	}
	ctx := context.Background()
	ten, err := client.New(urls[0], "adm").CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client.Client
	for _, u := range urls {
		c := client.New(u, ten.APIKey)
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
		clients = append(clients, c)
	}
	rc := receiver.New(nil)
	defer rc.Close()
	url, types := rc.URL, []string{"visit.*"}
	if _, err := clients[0].CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types}); err != nil {
		t.Fatal(err)
	}

	load := &restartLoad{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { load.run(t, clients, 8, stop); close(done) }()
	time.Sleep(time.Second)
	before := load.nAccepted.Load()
	stopped := time.Now()
	pg.Stop()
	time.Sleep(500 * time.Millisecond)
	health := healthz(t, urls[1])
	time.Sleep(1500 * time.Millisecond)
	pg.Start()
	started := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	<-done

	missing := func() int {
		ids, n := rc.IDs(), 0
		load.accepted.Range(func(k, _ any) bool {
			if ids[k.(string)] == 0 {
				n++
			}
			return true
		})
		return n
	}
	ok := rc.WaitFor(60*time.Second, func() bool { return missing() == 0 })
	gap, resumed := pause(rc.Requests(), stopped, started)
	var codes []string
	load.codes.Range(func(k, v any) bool {
		codes = append(codes, fmt.Sprintf("%s x%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(codes)
	t.Logf("server down %s; %d accepted before the stop, %d in all (%d tries); refusals: %v",
		started.Sub(stopped).Round(time.Millisecond), before, load.nAccepted.Load(), load.tries.Load(), codes)
	t.Logf("delivery paused %s (longest gap between deliveries); first delivery %s after the server was back",
		gap.Round(time.Millisecond), resumed.Round(time.Millisecond))
	if !ok {
		t.Fatalf("%d accepted events were never delivered", missing())
	}
	if health != `{"reason":"database unreachable","status":"unavailable"}` {
		t.Errorf("/healthz while the server was down = %s", health)
	}
	load.codes.Range(func(k, _ any) bool {
		if k != "storage_unavailable" {
			t.Errorf("a publish while the server was down was refused with %q, want storage_unavailable (503)", k)
		}
		return true
	})
	if after := load.nAccepted.Load() - before; after == 0 {
		t.Fatal("nothing was accepted after the restart")
	}
}

// healthz returns the compacted /healthz answer of a node.
func healthz(t *testing.T, base string) string {
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&v)
	b, _ := json.Marshal(v)
	return string(b)
}

// pause is the longest gap between consecutive deliveries that overlaps
// the outage [down, up], and how long after up the first delivery came.
func pause(reqs []receiver.Request, down, up time.Time) (gap, resumed time.Duration) {
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].At.Before(reqs[j].At) })
	for i := 1; i < len(reqs); i++ {
		a, b := reqs[i-1].At, reqs[i].At
		if b.After(down) && a.Before(up) && b.Sub(a) > gap {
			gap = b.Sub(a)
		}
		if resumed == 0 && b.After(up) {
			resumed = b.Sub(up)
		}
	}
	return gap, resumed
}
