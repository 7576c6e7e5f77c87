package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
)

// cliAdminToken is the admin token of the servers the CLI tests start.
const cliAdminToken = "cli-admin-token"

// cliServer is a real node the API commands talk to.
type cliServer struct {
	url string
}

// startCLIServer runs a node in process, on a fresh SQLite file, with the
// extensions of the binary; schedule is its retry schedule (nil: quick
// retries).
func startCLIServer(t *testing.T, schedule []time.Duration) *cliServer {
	t.Helper()
	if schedule == nil {
		schedule = []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond}
	}
	var cfg server.Config
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = cliAdminToken
	cfg.Migrate = true
	cfg.AllowPrivateEndpoints = true
	cfg.Delivery.Schedule = schedule
	cfg.Delivery.Jitter = -1
	cfg.Delivery.PollInterval = 50 * time.Millisecond
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.Extensions, cfg.Modules = extensions(), modules()
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &cliServer{url: n.URL()}
}

// cliCall is one command line: its environment and standard input.
type cliCall struct {
	env   map[string]string
	stdin string
}

// result is what a command printed and its exit status.
type result struct {
	out, err string
	code     int
}

// run runs args in process with only the variables of env (and a config
// directory of its own, so that the user's real profile file never
// counts) and returns what main would print and exit with.
func (cc cliCall) run(t *testing.T, args ...string) result {
	t.Helper()
	env := map[string]string{"XDG_CONFIG_HOME": filepath.Join(t.TempDir(), "config")}
	for k, v := range cc.env {
		env[k] = v
	}
	var out, errb bytes.Buffer
	err := runWith(context.Background(), args, strings.NewReader(cc.stdin), &out, &errb, func(k string) string { return env[k] })
	code := exitCode(err, &errb)
	return result{out: out.String(), err: errb.String(), code: code}
}

// must runs args and fails the test unless they exit 0.
func (cc cliCall) must(t *testing.T, args ...string) string {
	t.Helper()
	r := cc.run(t, args...)
	if r.code != 0 {
		t.Fatalf("slotwire %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// want runs args and checks the exit status and that stderr holds msg.
func (cc cliCall) want(t *testing.T, code int, msg string, args ...string) result {
	t.Helper()
	r := cc.run(t, args...)
	if r.code != code || !strings.Contains(r.err, msg) {
		t.Fatalf("slotwire %s: exit %d, stderr %q; want exit %d and %q\nstdout: %s", strings.Join(args, " "), r.code, r.err, code, msg, r.out)
	}
	return r
}

// jsonOf runs args with --json and decodes what they print.
func (cc cliCall) jsonOf(t *testing.T, v any, args ...string) {
	t.Helper()
	out := cc.must(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("slotwire %s --json printed no JSON document: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// tenant creates a tenant through the CLI and returns a call with its key
// (in the environment, as a user would export it).
func (s *cliServer) tenant(t *testing.T, name string) cliCall {
	t.Helper()
	admin := cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_ADMIN_TOKEN": cliAdminToken}}
	var ten struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	admin.jsonOf(t, &ten, "tenants", "create", "--name", name, "--plan", "unlimited")
	if !strings.HasPrefix(ten.APIKey, "sk_") || !strings.HasPrefix(ten.ID, "ten_") {
		t.Fatalf("tenants create --json: %+v", ten)
	}
	return cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": ten.APIKey}}
}

// idOf returns the "id" of a --json answer.
func idOf(t *testing.T, out string) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s (%v)", out, err)
	}
	return v.ID
}

// newReceiver starts a receiver answering code (204 when 0).
func newReceiver(t *testing.T, code func(n int) int) *receiver.Receiver {
	t.Helper()
	rc := receiver.New(func(n int, w http.ResponseWriter, _ *http.Request) {
		c := http.StatusNoContent
		if code != nil {
			c = code(n)
		}
		w.WriteHeader(c)
	})
	t.Cleanup(rc.Close)
	return rc
}
