package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/signature"
)

// syncBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// forwarded is a request the local receiver of listen got.
type forwarded struct {
	header http.Header
	body   []byte
}

// localReceiver is the developer's server --forward-to posts to.
type localReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []forwarded
}

func newLocalReceiver(t *testing.T) *localReceiver {
	lr := &localReceiver{}
	lr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		lr.mu.Lock()
		lr.got = append(lr.got, forwarded{r.Header.Clone(), body})
		lr.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(lr.Close)
	return lr
}

func (lr *localReceiver) requests() []forwarded {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]forwarded(nil), lr.got...)
}

// listenRun is slotwire listen running in process until stop.
type listenRun struct {
	out, err syncBuffer
	cancel   context.CancelFunc
	done     chan error
	endpoint string
	secret   string
	stopped  bool
}

// startListen runs slotwire listen with args as cc would, and waits for
// its banner.
func startListen(t *testing.T, cc cliCall, args ...string) *listenRun {
	t.Helper()
	env := map[string]string{"XDG_CONFIG_HOME": filepath.Join(t.TempDir(), "config")}
	for k, v := range cc.env {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	lr := &listenRun{cancel: cancel, done: make(chan error, 1)}
	go func() {
		lr.done <- runWith(ctx, append([]string{"listen"}, args...), strings.NewReader(""), &lr.out, &lr.err, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() { lr.stop(t) })
	eventually(t, "the banner of slotwire listen", func() bool { return strings.Contains(lr.err.String(), "Press Ctrl-C") })
	if m := regexp.MustCompile(`pull endpoint (ep_\w+)`).FindStringSubmatch(lr.err.String()); m != nil {
		lr.endpoint = m[1]
	}
	if m := regexp.MustCompile(`Signing secret: (whsec_\S+)`).FindStringSubmatch(lr.err.String()); m != nil {
		lr.secret = m[1]
	}
	if lr.endpoint == "" || lr.secret == "" {
		t.Fatalf("banner names no endpoint or secret:\n%s", lr.err.String())
	}
	return lr
}

// stop cancels the command (as Ctrl-C does) and waits for it.
func (lr *listenRun) stop(t *testing.T) {
	lr.cancel()
	if lr.stopped {
		return
	}
	lr.stopped = true
	select {
	case err := <-lr.done:
		if err != nil {
			t.Errorf("slotwire listen: %v\nstderr: %s", err, lr.err.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("slotwire listen did not stop")
	}
}

// endpointIDs lists the tenant's endpoints.
func endpointIDs(t *testing.T, cc cliCall) []string {
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	cc.jsonOf(t, &list, "endpoints", "list")
	var ids []string
	for _, e := range list.Data {
		ids = append(ids, e.ID)
	}
	return ids
}

// slotwire listen receives what is published through a pull endpoint,
// prints it verified and forwards it, signed, to the local server, once
// each; on exit the endpoint is gone.
func TestCLIListenForwards(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	local := newLocalReceiver(t)
	lr := startListen(t, c, "--forward-to", local.URL+"/hooks", "--events", "visit.*")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, strings.TrimSpace(c.must(t, "events", "publish", "--type", "visit.created", "--data", `{"n":`+string(rune('0'+i))+`}`)))
	}
	c.must(t, "events", "publish", "--type", "invoice.paid", "--data", `{}`) // not subscribed
	eventually(t, "3 webhooks forwarded", func() bool { return len(local.requests()) >= 3 })
	time.Sleep(2500 * time.Millisecond) // nothing more, nothing twice
	got := local.requests()
	if len(got) != 3 {
		t.Fatalf("the local server got %d requests, want 3", len(got))
	}
	for i, r := range got {
		h := r.header
		if h.Get("Webhook-Id") != ids[i] || h.Get("Content-Type") != "application/json" {
			t.Fatalf("request %d: headers %v, want event %s", i, h, ids[i])
		}
		if err := signature.Verify(lr.secret, h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), h.Get("Webhook-Signature"), r.body, time.Now(), time.Minute); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	eventually(t, "the last webhook printed", func() bool { return strings.Count(lr.out.String(), "→ ") == 3 })
	out := lr.out.String()
	for _, want := range []string{"visit.created", ids[0], ids[2], "✓ verified", `"n": 2`, "202 Accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("listen printed no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✗") || strings.Contains(out, "invoice.paid") {
		t.Errorf("listen printed what it should not:\n%s", out)
	}
	lr.stop(t)
	if !strings.Contains(lr.err.String(), "Deleted endpoint "+lr.endpoint) {
		t.Errorf("stderr:\n%s", lr.err.String())
	}
	if ids := endpointIDs(t, c); len(ids) != 0 {
		t.Fatalf("endpoints left after listen: %v", ids)
	}
}

// With --keep the endpoint stays, and the next run reuses it, showing
// only what is published from then on; --json prints a line per webhook.
func TestCLIListenKeepReuseJSON(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	first := startListen(t, c, "--keep")
	old := strings.TrimSpace(c.must(t, "events", "publish", "--type", "visit.created", "--data", `{"n":0}`))
	eventually(t, "the first webhook printed", func() bool { return strings.Contains(first.out.String(), old) })
	first.stop(t)
	if ids := endpointIDs(t, c); len(ids) != 1 || ids[0] != first.endpoint {
		t.Fatalf("--keep: endpoints %v, want %s", ids, first.endpoint)
	}
	second := startListen(t, c, "--json")
	if second.endpoint != first.endpoint || !strings.Contains(second.err.String(), "reusing") {
		t.Fatalf("second run did not reuse %s:\n%s", first.endpoint, second.err.String())
	}
	evt := strings.TrimSpace(c.must(t, "events", "publish", "--type", "visit.updated", "--data", `{"n":1}`))
	eventually(t, "the second webhook printed", func() bool { return strings.Contains(second.out.String(), evt) })
	lines := strings.Split(strings.TrimSpace(second.out.String()), "\n")
	var r struct {
		EventID  string          `json:"event_id"`
		Type     string          `json:"type"`
		Verified bool            `json:"verified"`
		Body     json.RawMessage `json:"body"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &r) != nil || r.EventID != evt || r.Type != "visit.updated" || !r.Verified ||
		!strings.Contains(string(r.Body), `"n":1`) {
		t.Fatalf("--json printed:\n%s", second.out.String())
	}
	second.stop(t)
	if ids := endpointIDs(t, c); len(ids) != 0 {
		t.Fatalf("endpoints left after listen: %v", ids)
	}
}
