package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

func typeN(i int) string { return fmt.Sprintf("booking.t%d", i) }

// throughput: scenario 1, N events to 1 endpoint and to 50 endpoints.
func (b *bencher) throughput(ctx context.Context) ([]Result, error) {
	var out []Result
	count := b.n(100000)
	for _, eps := range []int{1, 50} {
		rc, err := newRecv(false, false)
		if err != nil {
			return nil, err
		}
		raw := rawClient(rc.URL(), min(count, 50000), b.o.Publishers)
		rc.count.Store(0)
		relay, err := relayLimit(rc.URL(), min(count, 50000), b.o.Publishers, 64)
		if err != nil {
			rc.Close()
			return nil, err
		}
		n, err := b.startNode(ctx)
		if err != nil {
			rc.Close()
			return nil, err
		}
		for e := 0; e < eps; e++ {
			if _, err := n.endpoint(rc.URL(), []string{typeN(e)}, true); err != nil {
				return nil, err
			}
		}
		start, cpu0 := time.Now(), procCPU(n.cmd.Process.Pid, false)
		pubDur, failed, err := publish(n.url, n.key, n.http, count, b.o.Publishers, func(i int) string { return typeN(i % eps) }, nil)
		if err != nil {
			n.stop()
			rc.Close()
			return nil, err
		}
		end, ok := rc.waitCount(int64(count), 10*time.Minute)
		cpu := procCPU(n.cmd.Process.Pid, false) - cpu0
		total := end.Sub(start)
		dps := float64(rc.count.Load()) / total.Seconds()
		res := Result{Scenario: fmt.Sprintf("1 throughput %d events -> %d endpoint(s)", count, eps), Metrics: map[string]float64{
			"accepted_per_s":   float64(count) / pubDur.Seconds(),
			"deliveries_per_s": dps,
			"raw_client_per_s": raw,
			"relay_per_s":      relay,
			"pct_of_raw":       100 * dps / raw,
			"pct_of_relay":     100 * dps / relay,
			"publish_errors":   float64(failed),
			"peak_rss_mib":     n.peakRSS(),
			// The server's CPU per delivered event: steadier than the
			// rates on a machine whose speed varies from run to run.
			"cpu_us_per_event": 1e6 * cpu / float64(max(1, rc.count.Load())),
		}}
		if !ok {
			res.Notes = "timed out before every delivery arrived"
		}
		out = append(out, res)
		n.stop()
		rc.Close()
	}
	return out, nil
}

// steady publishes at rate events/s for dur with the given publishers and
// records the 202 time of each event.
func steady(n *node, rate int, dur time.Duration, typeOf func(i int) string) (map[string]time.Time, int, error) {
	accepted := map[string]time.Time{}
	var mu sync.Mutex
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	var firstErr error
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			body := []byte(`{"type":"` + typeOf(i) + `","data":` + string(eventBody) + `}`)
			id, err := postEvent(n.http, n.url, n.key, body)
			at := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			accepted[id] = at
		}(i)
	}
	wg.Wait()
	return accepted, total, firstErr
}

func latencies(rc *recv, accepted map[string]time.Time) []time.Duration {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []time.Duration
	for id, at := range accepted {
		got, ok := rc.arrivals[id]
		if !ok {
			continue
		}
		d := got.Sub(at)
		if d < 0 {
			d = 0 // delivered before the publisher had read its 202
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// latency: scenario 2, a steady 1,000 events/s for 30 s.
func (b *bencher) latency(ctx context.Context) ([]Result, error) {
	rc, err := newRecv(true, false)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	n, err := b.startNode(ctx)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	if _, err := n.endpoint(rc.URL(), []string{"*"}, true); err != nil {
		return nil, err
	}
	dur := time.Duration(float64(30*time.Second) * b.o.Scale)
	if dur < 3*time.Second {
		dur = 3 * time.Second
	}
	accepted, total, err := steady(n, 1000, dur, func(int) string { return "booking.created" })
	if err != nil {
		return nil, err
	}
	rc.waitCount(int64(len(accepted)), time.Minute)
	l := latencies(rc, accepted)
	return []Result{{Scenario: fmt.Sprintf("2 latency 1000 ev/s for %s", dur), Metrics: map[string]float64{
		"events": float64(total), "delivered": float64(len(l)),
		"p50_ms": ms(percentile(l, 0.50)), "p99_ms": ms(percentile(l, 0.99)), "max_ms": ms(percentile(l, 1)),
	}}}, nil
}

// isolation: scenario 3, 100 endpoints of which 20 never answer.
func (b *bencher) isolation(ctx context.Context) ([]Result, error) {
	var out []Result
	count := b.n(20000)
	var base float64
	var baseP99 time.Duration
	for _, hung := range []int{0, 20} {
		good, err := newRecv(true, false)
		if err != nil {
			return nil, err
		}
		// Endpoints 0-19 hang (or, in the all-healthy run, answer on a
		// receiver of their own), so both runs measure the same 80
		// endpoints on the good receiver.
		bad, err := newRecv(false, hung > 0)
		if err != nil {
			return nil, err
		}
		n, err := b.startNode(ctx)
		if err != nil {
			return nil, err
		}
		for e := 0; e < 100; e++ {
			url := good.URL()
			if e < 20 {
				url = bad.URL()
			}
			if _, err := n.endpoint(url, []string{typeN(e)}, true); err != nil {
				return nil, err
			}
		}
		accepted := map[string]time.Time{}
		var mu sync.Mutex
		healthyEvents := 0
		for i := 0; i < count; i++ {
			if i%100 >= 20 {
				healthyEvents++
			}
		}
		start := time.Now()
		_, _, err = publish(n.url, n.key, n.http, count, b.o.Publishers, func(i int) string { return typeN(i % 100) }, func(id string, at time.Time) {
			mu.Lock()
			accepted[id] = at
			mu.Unlock()
		})
		if err != nil {
			return nil, err
		}
		end, ok := good.waitCount(int64(healthyEvents), 10*time.Minute)
		dps := float64(good.count.Load()) / end.Sub(start).Seconds()
		l := latencies(good, accepted)
		p99 := percentile(l, 0.99)
		r := Result{Scenario: fmt.Sprintf("3 isolation %d events, %d/100 endpoints hung", count, hung), Metrics: map[string]float64{
			"healthy_deliveries_per_s": dps, "healthy_p50_ms": ms(percentile(l, 0.5)), "healthy_p99_ms": ms(p99),
		}}
		if hung == 0 {
			base, baseP99 = dps, p99
		} else {
			r.Metrics["pct_of_all_healthy"] = 100 * dps / base
			r.Metrics["p99_ratio"] = float64(p99) / float64(max(baseP99, time.Microsecond))
		}
		if !ok {
			r.Notes = "timed out"
		}
		out = append(out, r)
		n.stop()
		good.Close()
		bad.Close()
	}
	return out, nil
}

// backlog: scenario 4. The deliveries are queued by an API-only node (as
// when no receiver takes anything: every delivery is pending in the
// database), then a full node starts on the same database and drains them.
func (b *bencher) backlog(ctx context.Context) ([]Result, error) {
	deliveries := b.n(1000000)
	const eps = 10
	events := deliveries / eps
	rc, err := newRecv(false, false)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	api, err := b.startNode(ctx, "--role", "api")
	if err != nil {
		return nil, err
	}
	for e := 0; e < eps; e++ {
		if _, err := api.endpoint(rc.URL(), []string{"booking.created"}, true); err != nil {
			api.stop()
			return nil, err
		}
	}
	pubStart := time.Now()
	if _, _, err := publish(api.url, api.key, api.http, events, b.o.Publishers, func(int) string { return "booking.created" }, nil); err != nil {
		api.stop()
		return nil, err
	}
	queueDur := time.Since(pubStart)
	api.halt()
	start := time.Now()
	n, err := b.startNodeIn(ctx, api.dir, api.key)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	end, ok := rc.waitCount(int64(deliveries), 30*time.Minute)
	r := Result{Scenario: fmt.Sprintf("4 backlog %d deliveries (%d events x %d endpoints)", deliveries, events, eps), Metrics: map[string]float64{
		"queue_build_s": queueDur.Seconds(), "drain_per_s": float64(rc.count.Load()) / end.Sub(start).Seconds(),
		"peak_rss_mib": n.peakRSS(),
	}}
	if !ok {
		r.Notes = fmt.Sprintf("timed out with %d delivered", rc.count.Load())
	}
	return []Result{r}, nil
}

// fanout: scenario 5, one event type subscribed by 1,000 endpoints.
func (b *bencher) fanout(ctx context.Context) ([]Result, error) {
	eps := 1000
	events := b.n(1000)
	rc, err := newRecv(false, false)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	n, err := b.startNode(ctx)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	for e := 0; e < eps; e++ {
		if _, err := n.endpoint(rc.URL(), []string{"booking.created"}, true); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	pubDur, _, err := publish(n.url, n.key, n.http, events, b.o.Publishers, func(int) string { return "booking.created" }, nil)
	if err != nil {
		return nil, err
	}
	want := int64(events * eps)
	end, ok := rc.waitCount(want, 30*time.Minute)
	r := Result{Scenario: fmt.Sprintf("5 fan-out %d events x %d endpoints", events, eps), Metrics: map[string]float64{
		"accepted_per_s": float64(events) / pubDur.Seconds(), "deliveries_per_s": float64(rc.count.Load()) / end.Sub(start).Seconds(),
		"peak_rss_mib": n.peakRSS(),
	}}
	if !ok {
		r.Notes = fmt.Sprintf("timed out with %d of %d delivered", rc.count.Load(), want)
	}
	return []Result{r}, nil
}
