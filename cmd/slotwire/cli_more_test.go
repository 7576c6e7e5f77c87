package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
)

// field returns the value of the "name:" line a command printed.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

// TestCLIPortalLink: the link printed signs a browser in once (303 to the
// dashboard with a session cookie), then answers 404.
func TestCLIPortalLink(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	out := c.must(t, "portal-link", "--scopes", "events,customers", "--ttl", "2h")
	link := field(t, out, "url")
	if !strings.HasPrefix(link, s.url+"/portal/pt_") || field(t, out, "scopes") != "events,customers" || !strings.Contains(out, "opens once") {
		t.Fatalf("portal-link printed:\n%s", out)
	}
	expires, err := time.Parse(time.RFC3339, field(t, out, "expires"))
	if err != nil || time.Until(expires).Round(time.Minute) != 2*time.Hour {
		t.Fatalf("expires %v (%v), want in 2h", expires, err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "slotwire_session" && ck.Value != "" {
			cookie = ck.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endpoints" || cookie == "" {
		t.Fatalf("opening the link: %d, Location %q, cookies %v; want 303 to /endpoints with slotwire_session", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	resp, err = browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("opening the link again: %d, want 404", resp.StatusCode)
	}
	var p struct {
		URL       string    `json:"url"`
		Scopes    []string  `json:"scopes"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	c.jsonOf(t, &p, "portal-link")
	if !strings.Contains(p.URL, "/portal/pt_") || p.URL == link || len(p.Scopes) != 0 || time.Until(p.ExpiresAt).Round(time.Minute) != time.Hour {
		t.Fatalf("portal-link --json: %+v", p)
	}
	c.want(t, 2, `--ttl "soon" is not a duration`, "portal-link", "--ttl", "soon")
	c.want(t, 1, "HTTP 400 invalid_request", "portal-link", "--ttl", "48h")
	c.want(t, 1, "HTTP 400 invalid_request", "portal-link", "--scopes", "nope")
}

func TestCLIErasures(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	evt := strings.TrimSpace(c.must(t, "events", "publish", "--type", "crm.contact.updated", "--data", `{"contact":{"email":"jan@example.com","name":"Jan"}}`))
	out := c.must(t, "erasures", "create", "--email", "Jan@Example.com")
	if !strings.HasPrefix(field(t, out, "id"), "era_") || field(t, out, "subject") != "email" || field(t, out, "events") != "1" ||
		field(t, out, "attempts") != "0" || strings.Contains(out, "jan@example.com") {
		t.Fatalf("erasures create --email:\n%s", out)
	}
	if out := c.must(t, "events", "show", evt); strings.Contains(out, "jan@example.com") || !strings.Contains(out, "[erased]") {
		t.Fatalf("the event after the erasure:\n%s", out)
	}
	var e map[string]any
	c.jsonOf(t, &e, "erasures", "create", "--customer-id", "cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5")
	if e["subject"] != "customer_id" || e["events"] != 0.0 {
		t.Fatalf("erasures create --customer-id --json: %v", e)
	}
	out = c.must(t, "erasures", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], "customer_id") || !strings.Contains(lines[2], "email") || !strings.Contains(lines[2], "events=1") {
		t.Fatalf("erasures list:\n%s", out)
	}
	if r := c.run(t, "erasures", "list", "--limit", "1"); r.code != 0 || strings.Count(r.out, "era_") != 1 || !strings.Contains(r.err, "more: --cursor era_") {
		t.Fatalf("erasures list --limit 1: %+v", r)
	}
	var all struct{ Data []map[string]any }
	c.jsonOf(t, &all, "erasures", "list", "--limit", "1", "--all")
	if len(all.Data) != 2 {
		t.Fatalf("erasures list --all --json: %v", all)
	}
	c.want(t, 2, "give exactly one of --customer-id and --email", "erasures", "create")
	c.want(t, 2, "give exactly one of --customer-id and --email", "erasures", "create", "--email", "a@b.example", "--customer-id", "cus_1")
	var key struct {
		Secret string `json:"api_key"`
	}
	c.jsonOf(t, &key, "keys", "create", "--name", "zapier", "--scopes", "events")
	zap := cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": key.Secret}}
	zap.want(t, 1, "missing_scope", "erasures", "create", "--email", "a@b.example")
	zap.want(t, 1, "missing_scope", "erasures", "list")
}

// TestCLIFeedToken: the token printed reads the endpoint's feed until it is
// deleted.
func TestCLIFeedToken(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	ep := idOf(t, c.must(t, "endpoints", "create", "http://127.0.0.1:9/pull", "--types", "*", "--disabled", "--json"))
	out := c.must(t, "endpoints", "feed-token", ep)
	token := field(t, out, "feed token")
	if !strings.HasPrefix(token, "ft_") || field(t, out, "endpoint") != ep || !strings.Contains(out, "shown only this once") {
		t.Fatalf("endpoints feed-token:\n%s", out)
	}
	feed := client.New(s.url, token)
	if _, err := feed.Feed(context.Background(), ep, "", 0); err != nil {
		t.Fatalf("reading the feed with the token: %v", err)
	}
	var again map[string]string
	c.jsonOf(t, &again, "endpoints", "feed-token", ep)
	if !strings.HasPrefix(again["feed_token"], "ft_") || again["feed_token"] == token {
		t.Fatalf("endpoints feed-token --json: %v", again)
	}
	if _, err := feed.Feed(context.Background(), ep, "", 0); err == nil {
		t.Fatal("the previous feed token still reads the feed")
	}
	if out := c.must(t, "endpoints", "feed-token", ep, "--delete"); !strings.Contains(out, "deleted the feed token of "+ep) {
		t.Fatalf("endpoints feed-token --delete: %s", out)
	}
	if _, err := client.New(s.url, again["feed_token"]).Feed(context.Background(), ep, "", 0); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("reading the feed with a deleted token: %v, want HTTP 401", err)
	}
	if out := c.must(t, "endpoints", "feed-token", ep, "--delete", "--json"); out != "" {
		t.Fatalf("endpoints feed-token --delete --json printed %q, want nothing", out)
	}
	c.want(t, 1, "HTTP 404", "endpoints", "feed-token", "ep_01M81SPGSR6XQ0H3M5Z18AQSWH")
}

// TestCLIHooks: a hook gets its events, is an endpoint marked as a REST
// hook, and only hooks delete removes it.
func TestCLIHooks(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	rc := newReceiver(t, nil)
	out := c.must(t, "hooks", "create", "--target-url", rc.URL+"/zap", "--events", "order.paid, order.created")
	id := field(t, out, "id")
	if !strings.HasPrefix(id, "ep_") || field(t, out, "target url") != rc.URL+"/zap" || field(t, out, "events") != "order.paid,order.created" ||
		!strings.HasPrefix(field(t, out, "secret"), "whsec_") {
		t.Fatalf("hooks create:\n%s", out)
	}
	c.must(t, "events", "publish", "--type", "order.paid", "--data", `{"n":1}`)
	if !rc.WaitCount(1, 10*time.Second) || !strings.Contains(string(rc.Requests()[0].Body), `"order.paid"`) {
		t.Fatalf("the hook got %d webhooks, want the order.paid event", rc.Count())
	}
	if out := c.must(t, "endpoints", "show", id); !strings.Contains(out, "rest hook:") {
		t.Fatalf("endpoints show of a hook:\n%s", out)
	}
	var h map[string]any
	c.jsonOf(t, &h, "hooks", "create", "--target-url", rc.URL, "--events", "invoice.*")
	plain := idOf(t, c.must(t, "endpoints", "create", rc.URL, "--types", "*", "--json"))
	c.want(t, 1, "HTTP 404 not_found", "hooks", "delete", plain)
	if out := c.must(t, "hooks", "delete", id); !strings.Contains(out, "deleted "+id) {
		t.Fatalf("hooks delete: %s", out)
	}
	c.want(t, 1, "HTTP 404", "endpoints", "show", id)
	if out := c.must(t, "hooks", "delete", h["id"].(string), "--json"); out != "" {
		t.Fatalf("hooks delete --json printed %q", out)
	}
	c.want(t, 2, "--target-url and --events are required", "hooks", "create", "--target-url", rc.URL)
	c.want(t, 2, "--target-url and --events are required", "hooks", "create", "--events", "x")
	c.want(t, 1, "HTTP 422 unprocessable", "hooks", "create", "--target-url", "not a url", "--events", "x")
}

// TestCLISettings: strict event types refuse an unregistered type until
// turned off again.
func TestCLISettings(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	c := s.tenant(t, "Acme")
	if out := c.must(t, "settings", "show"); field(t, out, "strict event types") != "no" {
		t.Fatalf("settings show:\n%s", out)
	}
	if out := c.must(t, "settings", "set", "--strict-event-types"); field(t, out, "strict event types") != "yes" {
		t.Fatalf("settings set --strict-event-types:\n%s", out)
	}
	c.want(t, 1, "HTTP 400 invalid_request", "events", "publish", "--type", "nobody.registered", "--data", "{}")
	var st map[string]any
	c.jsonOf(t, &st, "settings", "show")
	if st["strict_event_types"] != true {
		t.Fatalf("settings show --json: %v", st)
	}
	c.jsonOf(t, &st, "settings", "set", "--strict-event-types=false")
	if st["strict_event_types"] != false {
		t.Fatalf("settings set --strict-event-types=false --json: %v", st)
	}
	c.must(t, "events", "publish", "--type", "nobody.registered", "--data", "{}")
	c.want(t, 2, "nothing to change", "settings", "set")
	c.want(t, 2, "invalid boolean value", "settings", "set", "--strict-event-types=maybe")
	var key struct {
		Secret string `json:"api_key"`
	}
	c.jsonOf(t, &key, "keys", "create", "--name", "zapier", "--scopes", "events")
	zap := cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": key.Secret}}
	zap.must(t, "settings", "show")
	zap.want(t, 1, "missing_scope", "settings", "set", "--strict-event-types")
}

// TestCLIHealthcheck: exit 0 when /healthz says ok, else 1 with the reason;
// no token needed.
func TestCLIHealthcheck(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	if out := (cliCall{}).must(t, "healthcheck", "--url", s.url); out != "ok\n" {
		t.Fatalf("healthcheck printed %q", out)
	}
	(cliCall{}).must(t, "healthcheck", "--url", s.url+"/healthz")
	var h map[string]string
	cliCall{}.jsonOf(t, &h, "healthcheck", "--url", s.url)
	if h["status"] != "ok" {
		t.Fatalf("healthcheck --json: %v", h)
	}
	full := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "reason": "storage is full"})
	}))
	defer full.Close()
	r := cliCall{}.want(t, 1, "healthcheck: "+full.URL+"/healthz answered HTTP 503: unavailable (storage is full)", "healthcheck", "--url", full.URL)
	if r.out != "" {
		t.Fatalf("an unhealthy server: stdout %q", r.out)
	}
	if r := (cliCall{}).run(t, "healthcheck", "--url", full.URL, "--json"); r.code != 1 || !strings.Contains(r.out, `"reason": "storage is full"`) {
		t.Fatalf("healthcheck --json of an unhealthy server: %+v", r)
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	cliCall{}.want(t, 1, "context deadline exceeded", "healthcheck", "--url", hang.URL, "--timeout", "100ms")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cliCall{}.want(t, 1, "connection refused", "healthcheck", "--url", closed.URL)
	cliCall{}.want(t, 1, "answered HTTP 404: not a health answer", "healthcheck", "--url", full.URL+"/elsewhere")
	cliCall{}.want(t, 2, `--url "127.0.0.1:8080": want http:// or https://`, "healthcheck", "--url", "127.0.0.1:8080")
}
