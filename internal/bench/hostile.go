package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostile: scenario 7, the engine under attack (issue 9). Three runs:
//   - tenant fairness: a victim tenant's steady 200 events/s, p99 with and
//     without another tenant's 100 endpoints that never answer;
//   - header attack: 256 concurrent answers each carrying ~10 MB of
//     headers; the node's peak RSS;
//   - batch publish: events/s through POST /v1/events/batch.
func (b *bencher) hostile(ctx context.Context) ([]Result, error) {
	var out []Result
	base, err := b.victim(ctx, false)
	if err != nil {
		return nil, err
	}
	hung, err := b.victim(ctx, true)
	if err != nil {
		return nil, err
	}
	hung.Metrics["p99_ratio"] = hung.Metrics["victim_p99_ms"] / max(base.Metrics["victim_p99_ms"], 0.001)
	out = append(out, base, hung)
	hdr, err := b.headerAttack(ctx)
	if err != nil {
		return nil, err
	}
	batch, err := b.batchPublish(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, hdr, batch), nil
}

// victim measures one tenant's latency at a steady rate, optionally while
// another tenant's 100 endpoints hang.
func (b *bencher) victim(ctx context.Context, withHung bool) (Result, error) {
	good, err := newRecv(true, false)
	if err != nil {
		return Result{}, err
	}
	defer good.Close()
	bad, err := newRecv(false, true)
	if err != nil {
		return Result{}, err
	}
	defer bad.Close()
	n, err := b.startNode(ctx)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if withHung {
		if err := b.hangTenant(n, bad.URL(), 100, 10); err != nil {
			return Result{}, err
		}
	}
	if _, err := n.endpoint(good.URL(), []string{"booking.created"}, true); err != nil {
		return Result{}, err
	}
	dur := time.Duration(float64(10*time.Second) * max(b.o.Scale, 0.5))
	accepted, total, err := steady(n, 200, dur, func(int) string { return "booking.created" })
	if err != nil {
		return Result{}, err
	}
	good.waitCount(int64(total), time.Minute)
	l := latencies(good, accepted)
	name := "7 tenants: victim 200 ev/s, no other tenant"
	if withHung {
		name = "7 tenants: victim 200 ev/s, other tenant 100 hung endpoints"
	}
	return Result{Scenario: name, Metrics: map[string]float64{
		"victim_p50_ms": ms(percentile(l, 0.5)), "victim_p99_ms": ms(percentile(l, 0.99)), "delivered": float64(len(l)),
	}}, nil
}

// hangTenant makes a second tenant with eps endpoints on url (which never
// answers) and publishes events to all of them.
func (b *bencher) hangTenant(n *node, url string, eps, events int) error {
	var t struct {
		APIKey string `json:"api_key"`
	}
	if err := n.call("POST", "/v1/tenants", "bench", map[string]string{"name": "hung", "plan": "unlimited"}, &t); err != nil {
		return err
	}
	other := *n
	other.key = t.APIKey
	for e := 0; e < eps; e++ {
		if _, err := other.endpoint(url, []string{"hang.x"}, true); err != nil {
			return err
		}
	}
	_, _, err := publish(other.url, other.key, other.http, events, 4, func(int) string { return "hang.x" }, nil)
	time.Sleep(500 * time.Millisecond) // let its requests start hanging
	return err
}

// headerAttack answers every webhook with ~10 MB of headers, 256 at once.
func (b *bencher) headerAttack(ctx context.Context) (Result, error) {
	big := strings.Repeat("a", 10<<20)
	var answered atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Huge", big)
		w.WriteHeader(http.StatusOK)
		answered.Add(1)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	n, err := b.startNode(ctx, "--max-inflight", "512")
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	before := n.peakRSS()
	url := "http://" + ln.Addr().String() + "/hook"
	for e := 0; e < 32; e++ { // 32 endpoints x 8 = 256 requests at once
		if err := n.call("POST", "/v1/endpoints", n.key, map[string]any{"url": url, "event_types": []string{"attack.x"},
			"max_concurrency": 8}, nil); err != nil {
			return Result{}, err
		}
	}
	events := max(8, int(64*b.o.Scale))
	if _, _, err := publish(n.url, n.key, n.http, events, 8, func(int) string { return "attack.x" }, nil); err != nil {
		return Result{}, err
	}
	deadline := time.Now().Add(time.Minute)
	for answered.Load() < int64(events*32) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return Result{Scenario: fmt.Sprintf("7 header attack: %d answers with 10 MB headers", answered.Load()), Metrics: map[string]float64{
		"rss_before_mib": before, "peak_rss_mib": n.peakRSS(),
	}}, nil
}

// batchPublish measures POST /v1/events/batch with 100 events a request.
func (b *bencher) batchPublish(ctx context.Context) (Result, error) {
	rc, err := newRecv(false, false)
	if err != nil {
		return Result{}, err
	}
	defer rc.Close()
	n, err := b.startNode(ctx)
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if _, err := n.endpoint(rc.URL(), []string{"booking.created"}, true); err != nil {
		return Result{}, err
	}
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"type":"booking.created","data":` + string(eventBody) + `}`)
	}
	body.WriteString(`]}`)
	requests := max(10, int(200*b.o.Scale))
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	var firstErr atomic.Value
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= requests {
				if err := n.call("POST", "/v1/events/batch", n.key, rawJSON(body.Bytes()), nil); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if e, _ := firstErr.Load().(error); e != nil {
		return Result{}, e
	}
	rc.waitCount(int64(requests*100), time.Minute)
	return Result{Scenario: fmt.Sprintf("7 batch publish: %d requests x 100 events", requests), Metrics: map[string]float64{
		"events_per_s": float64(requests*100) / took.Seconds(), "requests_per_s": float64(requests) / took.Seconds(),
	}}, nil
}

// rawJSON is a body sent as it is.
type rawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
