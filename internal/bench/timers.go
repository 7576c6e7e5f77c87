package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// timerCount is how many timers each phase of scenario 11 makes due.
const timerCount = 10_000

// timerSink receives appointment.starting webhooks and keeps, per event,
// how late it was fired (its timestamp) and received, after its due time.
type timerSink struct {
	srv      *http.Server
	ln       net.Listener
	mu       sync.Mutex
	fired    []time.Duration
	received []time.Duration
	last     time.Time
}

func newTimerSink() (*timerSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &timerSink{ln: ln}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *timerSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var ev struct {
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			DueAt time.Time `json:"due_at"`
		} `json:"data"`
	}
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &ev) == nil && !ev.Data.DueAt.IsZero() {
		s.mu.Lock()
		s.fired = append(s.fired, ev.Timestamp.Sub(ev.Data.DueAt))
		s.received = append(s.received, now.Sub(ev.Data.DueAt))
		if ev.Timestamp.After(s.last) {
			s.last = ev.Timestamp
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *timerSink) take() (fired, received []time.Duration, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fired, received, last = s.fired, s.received, s.last
	s.fired, s.received, s.last = nil, nil, time.Time{}
	return
}

// timers (scenario 11): 10,000 appointments (× scale) on as many
// resources whose appointment.starting is due within one minute (lag:
// fired and received after the due time), then 10,000 due at the same
// second (how many timers one node fires per second).
func (b *bencher) timers(ctx context.Context) ([]Result, error) {
	n, err := b.startNode(ctx)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	sink, err := newTimerSink()
	if err != nil {
		return nil, err
	}
	defer sink.srv.Close()
	if _, err := n.endpoint("http://"+sink.ln.Addr().String()+"/t", []string{"appointment.starting"}, true); err != nil {
		return nil, err
	}
	count := b.n(timerCount)
	var out []Result
	for i, spread := range []time.Duration{time.Minute, 0} {
		r, err := b.timerPhase(n, sink, count, spread, time.Duration(2*(i+1))*time.Hour)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// timerPhase books count appointments ahead (each phase further than the
// last, so re-timing moves the earlier phases' timers into the past),
// spread over spread, then moves their appointment.starting to a moment just ahead
// with the settings' starting offset (one transaction re-times them all),
// and waits for their events.
func (b *bencher) timerPhase(n *node, sink *timerSink, count int, spread, ahead time.Duration) (Result, error) {
	resources, err := b.parallel(count, func(i int) (string, error) {
		var r struct{ ID string }
		err := n.call("POST", "/v1/resources", n.key, map[string]any{"name": fmt.Sprintf("r%d", i), "kind": "room"}, &r)
		return r.ID, err
	})
	if err != nil {
		return Result{}, err
	}
	base := time.Now().Add(ahead).Truncate(time.Second)
	if _, err := b.parallel(count, func(i int) (string, error) {
		at := base.Add(spread * time.Duration(i) / time.Duration(count))
		return "", n.call("POST", "/v1/appointments", n.key, map[string]any{"start": at, "end": at.Add(time.Hour),
			"resource_ids": []string{resources[i]}}, nil)
	}); err != nil {
		return Result{}, err
	}
	due := time.Now().Add(3 * time.Second).Truncate(time.Second)
	began := time.Now()
	if err := n.call("PUT", "/v1/notification-settings", n.key, map[string]any{"ended": []string{},
		"starting": []string{due.Sub(base).String()}}, nil); err != nil {
		return Result{}, err
	}
	resync := time.Since(began)
	deadline := due.Add(spread + 2*time.Minute)
	for time.Now().Before(deadline) {
		sink.mu.Lock()
		got := len(sink.received)
		sink.mu.Unlock()
		if got >= count {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	fired, received, last := sink.take()
	slices.Sort(fired)
	slices.Sort(received)
	name := fmt.Sprintf("11 timers, %d due within %s", count, spread)
	if spread == 0 {
		name = fmt.Sprintf("11 timers, %d due at the same second", count)
	}
	m := map[string]float64{"due": float64(count), "received": float64(len(received)),
		"fire_lag_p50_ms": ms(percentile(fired, 0.5)), "fire_lag_p99_ms": ms(percentile(fired, 0.99)),
		"fire_lag_max_ms": ms(percentile(fired, 1)), "receive_lag_p99_ms": ms(percentile(received, 0.99)),
		"retime_all_ms": ms(resync)}
	if spread == 0 && !last.IsZero() {
		m["fired_per_s"] = float64(len(fired)) / max(last.Sub(due).Seconds(), 0.001)
	}
	return Result{Scenario: name, Metrics: m}, nil
}

// parallel runs fn for 0..count-1 on 32 workers and returns the results
// in order.
func (b *bencher) parallel(count int, fn func(i int) (string, error)) ([]string, error) {
	out := make([]string, count)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v, err := fn(i)
				mu.Lock()
				out[i] = v
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, first
}
