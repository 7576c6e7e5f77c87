// Package bench is Slotwire's delivery benchmark (`slotwire bench`). It
// starts a real `slotwire serve` process on a fresh SQLite file with the
// default durability (fsync on every commit), a receiver on loopback and a
// load generator, and compares Slotwire with two raw limits measured in the
// same run: a bare HTTP client POSTing straight to the receiver, and a bare
// in-memory relay (accept, answer 202, forward from a worker pool, no
// storage) between the same publisher and receiver.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options of a run.
type Options struct {
	Binary      string  // slotwire binary (default: this executable)
	Scenarios   []int   // default 1..5
	Scale       float64 // multiplies every count (default 1)
	Publishers  int     // concurrent publishers (default 32)
	Out         io.Writer
	JSONPath    string
	KeepWorkDir bool
	// Postgres is a server URL on which scenario 6 creates its database.
	Postgres string
}

// Result is one line of the table.
type Result struct {
	Scenario string             `json:"scenario"`
	Metrics  map[string]float64 `json:"metrics"`
	Notes    string             `json:"notes,omitempty"`
}

// Run runs the selected scenarios and prints a table.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Binary = exe
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = []int{1, 2, 3, 4, 5}
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Publishers <= 0 {
		o.Publishers = 32
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	b := &bencher{o: o}
	var results []Result
	for _, s := range o.Scenarios {
		var rs []Result
		var err error
		switch s {
		case 1:
			rs, err = b.throughput(ctx)
		case 2:
			rs, err = b.latency(ctx)
		case 3:
			rs, err = b.isolation(ctx)
		case 4:
			rs, err = b.backlog(ctx)
		case 5:
			rs, err = b.fanout(ctx)
		case 6:
			rs, err = b.nodes(ctx)
		case 7:
			rs, err = b.hostile(ctx)
		case 8:
			rs, err = b.cost(ctx)
		case 9:
			rs, err = b.operations(ctx)
		case 10:
			rs, err = b.space(ctx)
		case 11:
			rs, err = b.timers(ctx)
		default:
			return results, fmt.Errorf("no scenario %d", s)
		}
		if err != nil {
			return results, fmt.Errorf("scenario %d: %w", s, err)
		}
		for _, r := range rs {
			printResult(o.Out, r)
		}
		results = append(results, rs...)
	}
	if o.JSONPath != "" {
		data, _ := json.MarshalIndent(map[string]any{"time": time.Now().UTC(), "results": results}, "", "  ")
		if err := os.WriteFile(o.JSONPath, data, 0o644); err != nil {
			return results, err
		}
	}
	return results, nil
}

func printResult(w io.Writer, r Result) {
	keys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%-44s", r.Scenario)
	for _, k := range keys {
		v := r.Metrics[k]
		if v == float64(int64(v)) && v > 100 {
			fmt.Fprintf(w, "  %s=%d", k, int64(v))
		} else {
			fmt.Fprintf(w, "  %s=%.2f", k, v)
		}
	}
	if r.Notes != "" {
		fmt.Fprintf(w, "  (%s)", r.Notes)
	}
	fmt.Fprintln(w)
}

type bencher struct{ o Options }

func (b *bencher) n(base int) int {
	v := int(float64(base) * b.o.Scale)
	if v < 1 {
		v = 1
	}
	return v
}

// ---- receiver ----

type recv struct {
	srv      *http.Server
	ln       net.Listener
	count    atomic.Int64
	track    bool
	mu       sync.Mutex
	arrivals map[string]time.Time
	hang     bool
}

func newRecv(track, hang bool) (*recv, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &recv{ln: ln, track: track, hang: hang, arrivals: map[string]time.Time{}}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *recv) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.hang {
		<-req.Context().Done()
		return
	}
	now := time.Now()
	_, _ = io.Copy(io.Discard, req.Body)
	if r.track {
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		if _, ok := r.arrivals[id]; !ok {
			r.arrivals[id] = now
		}
		r.mu.Unlock()
	}
	r.count.Add(1)
	w.WriteHeader(http.StatusOK)
}

func (r *recv) URL() string { return "http://" + r.ln.Addr().String() + "/hook" }
func (r *recv) Close()      { r.srv.Close() }

func (r *recv) waitCount(n int64, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if r.count.Load() >= n {
			return time.Now(), true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Now(), false
}

// ---- slotwire process ----

type node struct {
	conc int
	cmd  *exec.Cmd
	url  string
	key  string
	dir  string
	http *http.Client
}

func (b *bencher) startNode(ctx context.Context, extra ...string) (*node, error) {
	dir, err := os.MkdirTemp("", "slotwire-bench")
	if err != nil {
		return nil, err
	}
	return b.startNodeIn(ctx, dir, "", extra...)
}

// benchSecretKey encrypts stored secrets of the PostgreSQL scenarios.
const benchSecretKey = "c2xvdHdpcmUtYmVuY2gta2V5LTMyLWJ5dGVzLWxvbmc="

// startNodeIn starts slotwire on the database in dir; with key == "" it
// creates a tenant.
func (b *bencher) startNodeIn(ctx context.Context, dir, key string, extra ...string) (*node, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	db := filepath.Join(dir, "bench.db")
	if strings.HasPrefix(dir, "postgres://") {
		db = dir
	}
	args := append([]string{"serve", "--addr", addr, "--db", db, "--admin-token", "bench",
		"--allow-private-endpoints", "--log-level", "warn", "--max-endpoints-per-tenant", "0"}, extra...)
	cmd := exec.CommandContext(ctx, b.o.Binary, args...)
	cmd.Stderr = os.Stderr
	if strings.HasPrefix(dir, "postgres://") && os.Getenv("SLOTWIRE_SECRET_KEY") == "" {
		// Every node of one database needs the same key; a benchmark's own.
		cmd.Env = append(os.Environ(), "SLOTWIRE_SECRET_KEY="+benchSecretKey)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &node{conc: b.o.Publishers, cmd: cmd, url: "http://" + addr, dir: dir, http: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}, Timeout: 60 * time.Second}}
	for i := 0; ; i++ {
		resp, err := n.http.Get(n.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			n.stop()
			return nil, fmt.Errorf("slotwire did not start: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if key != "" {
		n.key = key
		return n, nil
	}
	var t struct {
		APIKey string `json:"api_key"`
	}
	if err := n.call("POST", "/v1/tenants", "bench", map[string]string{"name": "bench", "plan": "unlimited"}, &t); err != nil {
		n.stop()
		return nil, err
	}
	n.key = t.APIKey
	return n, nil
}

func (n *node) call(method, path, token string, body, out any) error {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, n.url+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// endpoint creates an endpoint whose concurrency matches the publishers,
// as the raw client's does.
func (n *node) endpoint(url string, types []string, enabled bool) (string, error) {
	var ep struct{ ID string }
	err := n.call("POST", "/v1/endpoints", n.key, map[string]any{"url": url, "event_types": types, "enabled": enabled,
		"max_concurrency": n.conc}, &ep)
	return ep.ID, err
}

// peakRSS reads the process's high-water resident set in MiB.
func (n *node) peakRSS() float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmHWM:") {
			fields := strings.Fields(sc.Text())
			kb, _ := strconv.ParseFloat(fields[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func (n *node) stop() {
	n.halt()
	if !strings.HasPrefix(n.dir, "postgres://") {
		os.RemoveAll(n.dir)
	}
}

// halt stops the process and keeps its database.
func (n *node) halt() {
	if n.cmd.Process != nil {
		n.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			n.cmd.Process.Kill()
			<-done
		}
	}
}

// ---- publishing ----

var eventBody = []byte(`{"appointment_id":"apt_123","start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z","resource_ids":["res_1"],"customer":{"name":"Ada Lovelace","email":"ada@example.com"},"service":"Consultation","location":"Room 4"}`)

// publish sends count events with conc publishers; typeOf picks the type of
// event i. When accepted is not nil it records the 202 time of every id.
func publish(url, key string, client *http.Client, count, conc int, typeOf func(i int) string, accepted func(id string, at time.Time)) (time.Duration, int64, error) {
	var next, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				body := []byte(`{"type":"` + typeOf(i) + `","data":` + string(eventBody) + `}`)
				id, err := postEvent(client, url, key, body)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				if accepted != nil {
					accepted(id, time.Now())
				}
			}
		}()
	}
	wg.Wait()
	if e, _ := firstErr.Load().(error); e != nil && failed.Load() > int64(count/100) {
		return time.Since(start), failed.Load(), e
	}
	return time.Since(start), failed.Load(), nil
}

func postEvent(client *http.Client, url, key string, body []byte) (string, error) {
	req, _ := http.NewRequest("POST", url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("publish: %d %s", resp.StatusCode, raw)
	}
	var a struct{ ID string }
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", err
	}
	return a.ID, nil
}

// ---- raw limits ----

// rawClient POSTs count bodies straight to the receiver with conc workers.
func rawClient(target string, count, conc int) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= count {
				req, _ := http.NewRequest("POST", target, bytes.NewReader(eventBody))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	return float64(count) / time.Since(start).Seconds()
}

// relay is the bare in-memory relay: accept, answer 202, forward from a
// worker pool, no storage.
func relayLimit(target string, count, conc, workers int) (float64, error) {
	rc, err := newRecv(false, false)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	_ = target
	ch := make(chan []byte, 1<<16)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- body
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"evt_relay"}`))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	fwd := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}}
	for i := 0; i < workers; i++ {
		go func() {
			for body := range ch {
				req, _ := http.NewRequest("POST", rc.URL(), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := fwd.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	defer close(ch)
	pub := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}}
	start := time.Now()
	if _, _, err := publish("http://"+ln.Addr().String(), "x", pub, count, conc, func(int) string { return "a.b" }, nil); err != nil {
		return 0, err
	}
	end, ok := rc.waitCount(int64(count), 5*time.Minute)
	if !ok {
		return 0, fmt.Errorf("relay did not deliver everything")
	}
	return float64(count) / end.Sub(start).Seconds(), nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
