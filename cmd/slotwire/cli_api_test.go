package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

func TestCLITenantsAndKeys(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	admin := cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_ADMIN_TOKEN": cliAdminToken}}
	out := admin.must(t, "tenants", "create", "--name", "Acme", "--plan", "professional")
	for _, want := range []string{"id:", "ten_", "name:", "Acme", "plan:", "professional", "api key:", "sk_", "shown only this once"} {
		if !strings.Contains(out, want) {
			t.Errorf("tenants create printed no %q:\n%s", want, out)
		}
	}
	c := s.tenant(t, "Beta")
	out = admin.must(t, "tenants", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], "Acme") || !strings.Contains(lines[2], "Beta") {
		t.Fatalf("tenants list:\n%s", out)
	}
	var list struct{ Data []map[string]any }
	admin.jsonOf(t, &list, "tenants", "list")
	if len(list.Data) != 2 || list.Data[0]["plan"] != "professional" {
		t.Fatalf("tenants list --json: %+v", list)
	}
	admin.want(t, 1, "HTTP 401 unauthorized", "tenants", "list", "--admin-token", "wrong")
	admin.want(t, 2, "--name is required", "tenants", "create")

	var key struct {
		ID     string   `json:"id"`
		Secret string   `json:"api_key"`
		Scopes []string `json:"scopes"`
	}
	c.jsonOf(t, &key, "keys", "create", "--name", "zapier", "--scopes", "events, customers")
	if !strings.HasPrefix(key.Secret, "sk_") || strings.Join(key.Scopes, ",") != "events,customers" {
		t.Fatalf("keys create --json: %+v", key)
	}
	if out := c.must(t, "keys", "list"); !strings.Contains(out, "zapier") || !strings.Contains(out, "events,customers") || strings.Contains(out, key.Secret) {
		t.Fatalf("keys list (never the secret):\n%s", out)
	}
	zap := cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": key.Secret}}
	zap.must(t, "events", "publish", "--type", "appointment.created.test", "--data", "{}")
	zap.want(t, 1, "missing_scope", "keys", "list")
	if out := c.must(t, "keys", "revoke", key.ID); !strings.Contains(out, "revoked "+key.ID) {
		t.Fatalf("keys revoke: %s", out)
	}
	zap.want(t, 1, "HTTP 401 unauthorized", "events", "list")
	c.want(t, 1, "HTTP 404", "keys", "revoke", key.ID)
	c.want(t, 2, "--scopes is required", "keys", "create", "--name", "x")
	c.want(t, 2, "missing KEY_ID", "keys", "revoke")
}

func TestCLIEndpoints(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	ok := newReceiver(t, nil)
	failing := newReceiver(t, func(int) int { return 500 })
	id := idOf(t, c.must(t, "endpoints", "create", ok.URL+"/hooks", "--types", "invoice.*,customer.created",
		"--description", "ERP", "--header", "X-Erp-Token: abcdefghijkl", "--max-concurrency", "4", "--json"))
	out := c.must(t, "endpoints", "show", id)
	for _, want := range []string{"url:", ok.URL + "/hooks", "state:", "enabled", "invoice.*,customer.created", "description:", "ERP",
		"max concurrency:", "4", "header:", "X-Erp-Token: ****ijkl"} {
		if !strings.Contains(out, want) {
			t.Errorf("endpoints show has no %q:\n%s", want, out)
		}
	}
	if out := c.must(t, "endpoints", "list"); !strings.Contains(out, id) || !strings.Contains(out, "enabled") {
		t.Fatalf("endpoints list:\n%s", out)
	}
	// Flags after the positional argument, and update sending only them.
	var ep map[string]any
	c.jsonOf(t, &ep, "endpoints", "update", id, "--rate-limit", "7", "--endpoint-url", ok.URL+"/v2", "--ordering", "fifo", "--offset", "-15m")
	if ep["rate_limit_per_second"] != 7.0 || ep["url"] != ok.URL+"/v2" || ep["ordering"] != "fifo" || ep["description"] != "ERP" || ep["max_concurrency"] != 4.0 ||
		ep["offset"] == nil || !strings.HasPrefix(ep["offset"].(string), "-15m") {
		t.Fatalf("endpoints update --json: %v", ep)
	}
	c.want(t, 2, "nothing to change", "endpoints", "update", id)
	if out := c.must(t, "endpoints", "disable", id); !strings.Contains(out, "disabled") || !strings.Contains(out, "disabled through the API") {
		t.Fatalf("endpoints disable:\n%s", out)
	}
	if out := c.must(t, "endpoints", "enable", id); !strings.Contains(out, "state:            enabled") && !strings.Contains(out, "enabled") {
		t.Fatalf("endpoints enable:\n%s", out)
	}
	if out := c.must(t, "endpoints", "test", id); !strings.Contains(out, "succeeded:") || !strings.Contains(out, "HTTP 204") {
		t.Fatalf("endpoints test:\n%s", out)
	}
	bad := idOf(t, c.must(t, "endpoints", "create", failing.URL, "--types", "*", "--json"))
	r := c.want(t, 1, "test webhook to "+bad+" failed: HTTP 500", "endpoints", "test", bad)
	if !strings.Contains(r.out, "succeeded:  no") {
		t.Fatalf("endpoints test of a failing receiver printed:\n%s", r.out)
	}
	secret := strings.TrimSpace(c.must(t, "endpoints", "secret", id))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("endpoints secret printed %q", secret)
	}
	var rot map[string]any
	c.jsonOf(t, &rot, "endpoints", "rotate-secret", id, "--grace", "0s")
	if rot["secret"] == secret || !strings.HasPrefix(rot["secret"].(string), "whsec_") || rot["previous_secret_until"] != nil {
		t.Fatalf("rotate-secret --grace 0s: %v", rot)
	}
	if out := c.must(t, "endpoints", "rotate-secret", id); !strings.Contains(out, "old secret signs until:") || strings.Contains(out, "until:  -") {
		t.Fatalf("rotate-secret with the default grace:\n%s", out)
	}
	ed := c.must(t, "endpoints", "create", ok.URL, "--types", "*", "--signature-profile", "standard-ed25519")
	if !strings.Contains(ed, "public key:") || !strings.Contains(ed, "whpk_") || strings.Contains(ed, "secret:") {
		t.Fatalf("ed25519 endpoints create:\n%s", ed)
	}
	if out := c.must(t, "endpoints", "delete", id); !strings.Contains(out, "deleted "+id) {
		t.Fatalf("endpoints delete: %s", out)
	}
	c.want(t, 1, "HTTP 404 not_found", "endpoints", "show", id)
	c.want(t, 2, "--types is required", "endpoints", "create", ok.URL)
	c.want(t, 2, "missing URL", "endpoints", "create")
	c.want(t, 2, "--header \"nope\": want 'Name: value'", "endpoints", "create", ok.URL, "--types", "*", "--header", "nope")
	c.want(t, 1, "HTTP 400 invalid_request", "endpoints", "create", ok.URL, "--types", "*", "--ordering", "sideways")
}

func TestCLIEndpointInputFile(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	ok := newReceiver(t, nil)
	file := filepath.Join(t.TempDir(), "endpoint.json")
	os.WriteFile(file, []byte(`{"auth":{"type":"basic","username":"u","password":"p4ssw0rd"},"description":"from the file"}`), 0o600)
	var ep map[string]any
	c.jsonOf(t, &ep, "endpoints", "create", ok.URL, "--types", "*", "--input", file, "--description", "the flag wins")
	if ep["description"] != "the flag wins" || ep["auth"].(map[string]any)["username"] != "u" {
		t.Fatalf("create with --input: %v", ep)
	}
	c.stdin = `{"nope":1}`
	c.want(t, 2, `--input: json: unknown field "nope"`, "endpoints", "create", ok.URL, "--types", "*", "--input", "-")
}

func TestCLIEventsAndDeliveries(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	rc := newReceiver(t, nil)
	ep := idOf(t, c.must(t, "endpoints", "create", rc.URL, "--types", "invoice.*", "--json"))
	evt := strings.TrimSpace(c.must(t, "events", "publish", "--type", "invoice.paid", "--data", `{"invoice":"F-1"}`, "--idempotency-key", "F-1"))
	if !strings.HasPrefix(evt, "evt_") {
		t.Fatalf("events publish printed %q", evt)
	}
	if out := c.must(t, "events", "publish", "--type", "invoice.paid", "--data", `{"invoice":"F-1"}`, "--idempotency-key", "F-1"); !strings.Contains(out, evt) || !strings.Contains(out, "duplicate") {
		t.Fatalf("publishing again: %s", out)
	}
	file := filepath.Join(t.TempDir(), "data.json")
	os.WriteFile(file, []byte(`{"invoice":"F-2"}`), 0o600)
	c.must(t, "events", "publish", "--type", "invoice.sent", "--data", "@"+file)
	stdin := c
	stdin.stdin = `{"invoice":"F-3"}`
	stdin.must(t, "events", "publish", "--type", "invoice.sent", "--data", "-", "--ordering-key", "F", "--source-app", "erp")
	c.must(t, "events", "publish", "--type", "order.created", "--data", `{"n":1}`)
	if !rc.WaitCount(3, 10*time.Second) {
		t.Fatalf("receiver got %d webhooks, want 3", rc.Count())
	}
	out := c.must(t, "events", "list", "--type", "invoice.*", "--since", "1h")
	if strings.Count(out, "evt_") != 3 || strings.Contains(out, "order.created") {
		t.Fatalf("events list --type invoice.*:\n%s", out)
	}
	if out := c.must(t, "events", "list", "--until", "2000-01-01"); strings.Contains(out, "evt_") {
		t.Fatalf("events list --until 2000-01-01:\n%s", out)
	}
	out = c.must(t, "events", "show", evt)
	for _, want := range []string{"type:", "invoice.paid", `"invoice": "F-1"`, "deliveries (1):", ep} {
		if !strings.Contains(out, want) {
			t.Errorf("events show has no %q:\n%s", want, out)
		}
	}
	checkDeliveries(t, c, rc.Requests()[0].Body, ep, evt)
	// Pages: --limit 1 prints where to go on; --all --json is one document
	// with every item.
	r := c.run(t, "events", "list", "--limit", "1")
	if r.code != 0 || strings.Count(r.out, "evt_") != 1 || !strings.Contains(r.err, "more: --cursor evt_") {
		t.Fatalf("events list --limit 1: %+v", r)
	}
	var all struct{ Data []map[string]any }
	c.jsonOf(t, &all, "events", "list", "--limit", "1", "--all")
	if len(all.Data) != 4 {
		t.Fatalf("events list --limit 1 --all --json: %d events, want 4", len(all.Data))
	}
	c.want(t, 2, "--type and --data are required", "events", "publish", "--type", "x")
	c.want(t, 2, "not valid JSON", "events", "publish", "--type", "x", "--data", "{")
	c.want(t, 1, "HTTP 400 invalid_request", "events", "publish", "--type", "x", "--data", "[1]")
	c.want(t, 2, `--since: "yesterday" is not a time`, "events", "list", "--since", "yesterday")
}

// checkDeliveries: the delivery of evt is listed, shown with its attempt,
// its payload is the body the receiver got, a replay queues a new one,
// and the statistics count it.
func checkDeliveries(t *testing.T, c cliCall, body []byte, ep, evt string) {
	t.Helper()
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			EventID string `json:"event_id"`
		}
	}
	eventually(t, "the delivery is recorded as succeeded", func() bool {
		c.jsonOf(t, &list, "deliveries", "list", "--endpoint", ep, "--event", evt, "--status", "succeeded")
		return len(list.Data) == 1 && list.Data[0].EventID == evt
	})
	dlv := list.Data[0].ID
	if out := c.must(t, "deliveries", "list", "--status-class", "2xx", "--event-type", "invoice.paid"); !strings.Contains(out, dlv) || !strings.Contains(out, "204") {
		t.Fatalf("deliveries list --status-class 2xx:\n%s", out)
	}
	out := c.must(t, "deliveries", "show", dlv)
	for _, want := range []string{"status:", "succeeded", "attempts (1):", "204"} {
		if !strings.Contains(out, want) {
			t.Errorf("deliveries show has no %q:\n%s", want, out)
		}
	}
	if got := c.must(t, "deliveries", "payload", dlv); got != string(body) {
		t.Fatalf("deliveries payload = %q, the receiver got %q", got, body)
	}
	if got := c.must(t, "deliveries", "payload", dlv, "--json"); got != string(body) {
		t.Fatalf("deliveries payload --json = %q, want the bytes as signed %q", got, body)
	}
	if out := c.must(t, "deliveries", "replay", dlv); !strings.Contains(out, "queued dlv_") || !strings.Contains(out, "replay of "+dlv) {
		t.Fatalf("deliveries replay: %s", out)
	}
	out = c.must(t, "stats")
	if !strings.Contains(out, "WINDOW") || !strings.Contains(out, "24h") || !strings.Contains(out, "last success:") {
		t.Fatalf("stats:\n%s", out)
	}
	var st struct {
		Windows map[string]struct{ Succeeded int }
		Hourly  []json.RawMessage
	}
	c.jsonOf(t, &st, "stats", "--endpoint", ep)
	if st.Windows["1h"].Succeeded < 3 || len(st.Hourly) != 24 {
		t.Fatalf("stats --endpoint --json: %+v", st)
	}
	if out := c.must(t, "stats", "--endpoint", ep, "--hourly"); strings.Count(out, "\n") < 30 || !strings.Contains(out, "HOUR") {
		t.Fatalf("stats --hourly:\n%s", out)
	}
}

func TestCLIRecover(t *testing.T) {
	t.Parallel()
	// One attempt each: a delivery fails as soon as its receiver does.
	s := startCLIServer(t, []time.Duration{0})
	c := s.tenant(t, "Acme")
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(int) int {
		if down.Load() {
			return 503
		}
		return 204
	})
	ep := idOf(t, c.must(t, "endpoints", "create", rc.URL, "--types", "*", "--json"))
	for i := 0; i < 3; i++ {
		c.must(t, "events", "publish", "--type", "order.created", "--data", `{"n":1}`)
	}
	eventually(t, "the deliveries failed", func() bool {
		return strings.Count(c.must(t, "deliveries", "list", "--endpoint", ep, "--status", "failed"), "dlv_") == 3
	})
	down.Store(false)
	r := c.want(t, 0, "recover: 3 of 3 replays done (0 failed), 0 waiting", "recover", "--endpoint", ep, "--since", "1h", "--wait", "30s")
	if !strings.Contains(r.out, "queued 3 failed deliveries of "+ep) {
		t.Fatalf("recover printed %q", r.out)
	}
	var again map[string]int
	c.jsonOf(t, &again, "recover", "--endpoint", ep, "--since", "1h")
	if again["queued"] != 0 {
		t.Fatalf("recover twice queued %v", again)
	}
	c.want(t, 2, "--endpoint and --since are required", "recover", "--endpoint", ep)
	c.want(t, 1, "HTTP 400", "recover", "--endpoint", ep, "--since", "1h", "--until", "2h")
}

func TestCLIEventTypes(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	out := c.must(t, "event-types", "create", "--type", "order.paid", "--description", "An order was paid",
		"--schema", `{"type":"object","required":["order_id"]}`, "--example", `{"order_id":"o1"}`)
	if !strings.Contains(out, "order.paid") || !strings.Contains(out, "custom") {
		t.Fatalf("event-types create:\n%s", out)
	}
	if out := c.must(t, "event-types", "list", "--custom"); strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, "order.paid") || !strings.Contains(out, "An order was paid") {
		t.Fatalf("event-types list --custom:\n%s", out)
	}
	if out := c.must(t, "event-types", "list"); !strings.Contains(out, "appointment.created") {
		t.Fatalf("event-types list has no catalog type:\n%s", out)
	}
	c.want(t, 1, "HTTP 400 invalid_request", "events", "publish", "--type", "order.paid", "--data", `{"n":1}`)
	c.want(t, 1, "HTTP 409 conflict", "event-types", "create", "--type", "order.paid")
	if out := c.must(t, "event-types", "delete", "order.paid"); !strings.Contains(out, "archived order.paid") {
		t.Fatalf("event-types delete: %s", out)
	}
	c.must(t, "events", "publish", "--type", "order.paid", "--data", `{"n":1}`)
	c.want(t, 1, "HTTP 404", "event-types", "delete", "order.paid")
	c.want(t, 2, "--type is required", "event-types", "create")
	c.want(t, 2, "--schema: not valid JSON", "event-types", "create", "--type", "x.y", "--schema", "{")
}
