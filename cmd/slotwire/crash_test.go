package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// buildBinary compiles slotwire once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "slotwire-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "slotwire")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	log  *strings.Builder
	mu   *sync.Mutex
}

// testSecretKey encrypts stored secrets in the processes tests start.
const testSecretKey = "c2xvdHdpcmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="

// startProc runs `slotwire serve` and waits for /healthz.
func startProc(t *testing.T, db, addr string, extra ...string) *proc {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", addr, "--db", db, "--admin-token", "adm", "--allow-private-endpoints",
		"--node-id", "crash-node", "--retry-schedule", "0s,100ms,200ms,500ms,1s,1s,1s,1s,1s,1s"}, extra...)
	cmd := exec.Command(bin, args...)
	// Every node of a PostgreSQL database needs the same key.
	cmd.Env = append(os.Environ(), "SLOTWIRE_SECRET_KEY="+testSecretKey)
	p := &proc{cmd: cmd, addr: addr, log: &strings.Builder{}, mu: &sync.Mutex{}}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("slotwire did not start: %v\n%s", err, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashLosesNothing SIGKILLs a real slotwire process in the middle of a
// batch of events and proves, after a restart, that every event answered
// with 202 reached the receiver.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	total := 20000
	db := filepath.Join(t.TempDir(), "crash.db")
	addr := freeAddr(t)
	p := startProc(t, db, addr)
	ctx := context.Background()
	admin := client.New("http://"+addr, "adm")
	ten, err := admin.CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://"+addr, ten.APIKey)
	c.HTTP = &http.Client{Timeout: 10 * time.Second}
	// The receiver is slow enough that work is always in flight.
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		w.WriteHeader(200)
	})
	defer rc.Close()
	url, types := rc.URL, []string{"*"}
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: &url, EventTypes: &types}); err != nil {
		t.Fatal(err)
	}

	var accepted sync.Map
	var nAccepted, next atomic.Int64
	killAt := int64(total / 2)
	var killed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(total) || killed.Load() {
					return
				}
				a, err := c.Publish(ctx, "booking.confirmed", map[string]any{"n": i}, "")
				if err != nil {
					if !killed.Load() {
						t.Errorf("publish before the kill: %v", err)
						killed.Store(true)
					}
					continue // the process died under this request: not accepted
				}
				accepted.Store(a.ID, true)
				if nAccepted.Add(1) == killAt && killed.CompareAndSwap(false, true) {
					p.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}()
	}
	wg.Wait()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	if t.Failed() {
		return
	}
	received := rc.Count()
	n := int(nAccepted.Load())
	t.Logf("killed after %d accepted events; %d requests had reached the receiver", n, received)
	if received >= n {
		t.Logf("note: every event was delivered before the kill")
	}

	startProc(t, db, addr)
	ok := rc.WaitFor(120*time.Second, func() bool {
		ids := rc.IDs()
		missing := 0
		accepted.Range(func(k, _ any) bool {
			if ids[k.(string)] == 0 {
				missing++
			}
			return true
		})
		return missing == 0
	})
	ids := rc.IDs()
	missing, dups := 0, 0
	accepted.Range(func(k, _ any) bool {
		if ids[k.(string)] == 0 {
			missing++
		}
		return true
	})
	for _, c := range ids {
		if c > 1 {
			dups += c - 1
		}
	}
	t.Logf("after restart: %d accepted, %d distinct received, %d missing, %d duplicates", n, len(ids), missing, dups)
	if !ok || missing > 0 {
		t.Fatalf("%d accepted events never reached the receiver", missing)
	}
}

// SIGTERM drains and exits 0.
func TestSIGTERMExitsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	addr := freeAddr(t)
	p := startProc(t, filepath.Join(t.TempDir(), "s.db"), addr)
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
}

// The binary validates catalog event types published through the generic
// POST /v1/events against their schema, and accepts any other type.
func TestCatalogTypesValidatedOnPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	addr := freeAddr(t)
	startProc(t, filepath.Join(t.TempDir(), "s.db"), addr)
	ctx := context.Background()
	ten, err := client.New("http://"+addr, "adm").CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New("http://"+addr, ten.APIKey)
	_, err = c.Publish(ctx, "appointment.created", map[string]any{"nonsense": true}, "")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Code != "invalid_request" {
		t.Fatalf("bad appointment.created accepted: %v", err)
	}
	if _, err := c.Publish(ctx, "erp.order.synced", map[string]any{"anything": 1}, ""); err != nil {
		t.Fatalf("custom type refused: %v", err)
	}
	var types struct {
		Data []struct{ Type string } `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/event-types", nil, &types); err != nil || len(types.Data) < 30 {
		t.Fatalf("event catalog: %v, %d types", err, len(types.Data))
	}
}
