package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/signature"
)

const adminToken = "admin-secret"

type env struct {
	t     *testing.T
	node  *server.Node
	admin *client.Client
}

func fast() server.Config {
	var cfg server.Config
	cfg.Delivery.Schedule = []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	cfg.Delivery.Jitter = -1 // negative: none
	cfg.Delivery.PollInterval = 50 * time.Millisecond
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.AllowPrivateEndpoints = true
	return cfg
}

func start(t *testing.T, cfg server.Config) *env {
	t.Helper()
	if cfg.DB == "" {
		cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.Migrate = true
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &env{t: t, node: n, admin: client.New(n.URL(), adminToken)}
}

func (e *env) tenant(name string) *client.Client {
	e.t.Helper()
	ten, err := e.admin.CreateTenant(context.Background(), name, "unlimited")
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(ten.APIKey, "sk_") || !strings.HasPrefix(ten.ID, "ten_") {
		e.t.Fatalf("tenant = %+v", ten)
	}
	return client.New(e.node.URL(), ten.APIKey)
}

func ptr[T any](v T) *T { return &v }

func endpoint(t *testing.T, c *client.Client, url string, types ...string) string {
	t.Helper()
	ep, err := c.CreateEndpoint(context.Background(), client.EndpointInput{URL: ptr(url), EventTypes: &types})
	if err != nil {
		t.Fatal(err)
	}
	return ep.ID
}

func publish(t *testing.T, c *client.Client, typ string, data any, key string) string {
	t.Helper()
	a, err := c.Publish(context.Background(), typ, data, key)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func apiErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want HTTP %d %s, got %v", status, code, err)
	}
	if ce.Status != status || (code != "" && ce.Code != code) || ce.Message == "" {
		t.Fatalf("want HTTP %d %s, got %d %s %q", status, code, ce.Status, ce.Code, ce.Message)
	}
}

func TestDeliveryIsSigned(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	ctx := context.Background()
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL + "/hooks"), EventTypes: &[]string{"appointment.*"},
		Headers: &map[string]string{"Authorization": "Bearer erp-token"}, Description: ptr("ERP")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.Secret, "whsec_") || ep.ID == "" || !ep.Enabled {
		t.Fatalf("endpoint = %+v", ep)
	}
	endpoint(t, c, rc.URL+"/other", "customer.created") // not subscribed
	id := publish(t, c, "appointment.created", map[string]any{"appointment_id": "a1", "start": "2026-12-01T09:00:00Z"}, "")
	if !strings.HasPrefix(id, "evt_") {
		t.Fatalf("event id %q", id)
	}
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("nothing delivered")
	}
	time.Sleep(100 * time.Millisecond)
	reqs := rc.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	h := r.Header
	if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "Slotwire/"+slotwire.Version ||
		h.Get("Authorization") != "Bearer erp-token" || h.Get("webhook-id") != id {
		t.Fatalf("headers = %v", h)
	}
	secret, err := c.EndpointSecret(ctx, ep.ID)
	if err != nil || secret != ep.Secret {
		t.Fatalf("secret = %q, %v", secret, err)
	}
	if err := signature.Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), r.Body, time.Now(), signature.DefaultTolerance); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var body struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != id || body.Type != "appointment.created" || time.Since(body.Timestamp) > time.Minute || string(body.Data) != `{"appointment_id":"a1","start":"2026-12-01T09:00:00Z"}` {
		t.Fatalf("body = %s", r.Body)
	}
	// The log shows the exact bytes that were signed.
	list, err := c.ListDeliveries(ctx, ep.ID, "", "", 0)
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("deliveries = %v, %v", list, err)
	}
	d := list.Data[0]
	payload, err := c.DeliveryPayload(ctx, d.ID)
	if err != nil || !bytes.Equal(payload, r.Body) {
		t.Fatalf("payload = %s, %v", payload, err)
	}
	e.eventually(func() bool {
		det, err := c.GetDelivery(ctx, d.ID)
		return err == nil && det.Status == slotwire.StatusSucceeded && len(det.AttemptLog) == 1 && det.AttemptLog[0].StatusCode == 200
	})
	// The raw exchange: headers sent, secrets masked, and headers received.
	det, _ := c.GetDelivery(ctx, d.ID)
	sent := det.AttemptLog[0].RequestHeaders
	if sent["Webhook-Id"] != id || sent["Authorization"] != slotwire.Masked || sent["Webhook-Signature"] != slotwire.Masked ||
		sent["Content-Type"] != "application/json" || sent["Webhook-Timestamp"] != h.Get("webhook-timestamp") {
		t.Fatalf("request headers = %v", sent)
	}
	if raw, _ := json.Marshal(det); bytes.Contains(raw, []byte("erp-token")) || bytes.Contains(raw, []byte(h.Get("webhook-signature"))) {
		t.Fatalf("a secret is in the delivery's log: %s", raw)
	}
	if got := det.AttemptLog[0].ResponseHeaders; got["Content-Length"] == "" {
		t.Fatalf("response headers = %v", got)
	}
	ev, err := c.GetEvent(ctx, id)
	if err != nil || ev.Type != "appointment.created" {
		t.Fatalf("event = %+v, %v", ev, err)
	}
}

func (e *env) eventually(cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatal("condition not met in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.Header().Add("X-Receiver", "r1")
			w.Header().Add("X-Receiver", "r2")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("database down"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "customer.*")
	id := publish(t, c, "customer.created", map[string]any{"name": "Ada"}, "")
	if !rc.WaitCount(3, 10*time.Second) {
		t.Fatalf("got %d requests, want 3", rc.Count())
	}
	ctx := context.Background()
	list, _ := c.ListDeliveries(ctx, ep, "", "", 0)
	e.eventually(func() bool {
		d, err := c.GetDelivery(ctx, list.Data[0].ID)
		return err == nil && d.Status == slotwire.StatusSucceeded
	})
	d, _ := c.GetDelivery(ctx, list.Data[0].ID)
	if d.Attempts != 3 || len(d.AttemptLog) != 3 {
		t.Fatalf("delivery = %+v", d)
	}
	a := d.AttemptLog
	if a[0].StatusCode != 500 || a[0].ResponseBody != "database down" || a[0].Error != "HTTP 500" || a[1].StatusCode != 500 || a[2].StatusCode != 204 || a[2].Number != 3 ||
		a[0].ResponseHeaders["X-Receiver"] != "r1, r2" || a[2].ResponseHeaders["X-Receiver"] != "" || a[1].RequestHeaders["Webhook-Id"] != id {
		t.Fatalf("attempts = %+v %+v %+v", a[0], a[1], a[2])
	}
	for _, r := range rc.Requests() {
		if r.Header.Get("webhook-id") != id {
			t.Fatal("webhook-id changed between retries")
		}
	}
	if rc.Count() != 3 {
		t.Fatalf("%d requests after success", rc.Count())
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "*")
	publish(t, c, "x.y", map[string]any{}, "")
	ctx := context.Background()
	e.eventually(func() bool {
		l, err := c.ListDeliveries(ctx, ep, slotwire.StatusFailed, "", 0)
		return err == nil && len(l.Data) == 1 && l.Data[0].Attempts == 4
	})
	time.Sleep(200 * time.Millisecond)
	if rc.Count() != 4 {
		t.Fatalf("%d requests, want the 4 of the schedule", rc.Count())
	}
	got, _ := c.GetEndpoint(ctx, ep)
	if got.FailingSince == nil || !got.Enabled {
		t.Fatalf("endpoint = %+v", got)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	defer rc.Close()
	endpoint(t, c, rc.URL, "*")
	publish(t, c, "x.y", map[string]any{}, "")
	if !rc.WaitCount(2, 10*time.Second) {
		t.Fatal("no retry")
	}
	reqs := rc.Requests()
	if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Fatalf("retried after %s, before Retry-After's 1s (schedule says 20ms)", gap)
	}
}

func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	gone := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	defer gone.Close()
	ops := receiver.New(nil)
	defer ops.Close()
	ep := endpoint(t, c, gone.URL, "booking.*")
	endpoint(t, c, ops.URL, "endpoint.*")
	publish(t, c, "booking.created", map[string]any{}, "")
	ctx := context.Background()
	e.eventually(func() bool {
		got, err := c.GetEndpoint(ctx, ep)
		return err == nil && !got.Enabled && strings.Contains(got.DisabledReason, "410")
	})
	// The tenant hears about it as an event.
	if !ops.WaitCount(1, 10*time.Second) {
		t.Fatal("no endpoint.disabled event")
	}
	var body struct {
		Type string
		Data struct {
			EndpointID string `json:"endpoint_id"`
		}
	}
	json.Unmarshal(ops.Requests()[0].Body, &body)
	if body.Type != "endpoint.disabled" || body.Data.EndpointID != ep {
		t.Fatalf("ops event = %s", ops.Requests()[0].Body)
	}
	// A disabled endpoint gets nothing more.
	publish(t, c, "booking.created", map[string]any{}, "")
	time.Sleep(300 * time.Millisecond)
	if gone.Count() != 1 {
		t.Fatalf("disabled endpoint got %d requests", gone.Count())
	}
	l, _ := c.ListDeliveries(ctx, ep, "", "", 0)
	if len(l.Data) != 1 || l.Data[0].Status != slotwire.StatusFailed {
		t.Fatalf("deliveries of gone endpoint = %+v", l.Data)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	rc := receiver.New(nil)
	defer rc.Close()
	endpoint(t, c, rc.URL, "*")
	ctx := context.Background()
	first := publish(t, c, "appointment.created", map[string]any{"n": 1}, "booking-42")
	again, err := c.Publish(ctx, "appointment.created", map[string]any{"n": 1}, "booking-42")
	if err != nil || again.ID != first || !again.Duplicate {
		t.Fatalf("repeat = %+v, %v", again, err)
	}
	// The header works too.
	var viaHeader struct{ ID string }
	if err := c.Do(ctx, "POST", "/v1/events", map[string]any{"type": "appointment.created", "data": map[string]any{}}, &viaHeader, "Idempotency-Key", "booking-42"); err != nil {
		t.Fatal(err)
	}
	if viaHeader.ID != first {
		t.Fatalf("header key gave %s, want %s", viaHeader.ID, first)
	}
	other := publish(t, c, "appointment.created", map[string]any{"n": 1}, "booking-43")
	rc.WaitCount(2, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	ids := rc.IDs()
	if len(ids) != 2 || ids[first] != 1 || ids[other] != 1 {
		t.Fatalf("received %v", ids)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.AllowPrivateEndpoints = false
	cfg.MaxEventBytes = 1024
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	raw := func(method, path, body string) error {
		return c.Do(ctx, method, path, []byte(body), nil)
	}
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"malformed json", raw("POST", "/v1/events", `{"type":`), 400, "invalid_request"},
		{"missing type", raw("POST", "/v1/events", `{"data":{}}`), 400, "invalid_request"},
		{"bad type", raw("POST", "/v1/events", `{"type":"a b","data":{}}`), 400, "invalid_request"},
		{"missing data", raw("POST", "/v1/events", `{"type":"a.b"}`), 400, "invalid_request"},
		{"data not object", raw("POST", "/v1/events", `{"type":"a.b","data":[1]}`), 400, "invalid_request"},
		{"unknown field", raw("POST", "/v1/events", `{"type":"a.b","data":{},"tpye":1}`), 400, "invalid_request"},
		{"oversized", raw("POST", "/v1/events", `{"type":"a.b","data":{"x":"`+strings.Repeat("x", 2000)+`"}}`), 413, "payload_too_large"},
		{"unknown endpoint", raw("GET", "/v1/endpoints/ep_nope", ""), 404, "not_found"},
		{"unknown delivery", raw("GET", "/v1/deliveries/dlv_nope", ""), 404, "not_found"},
		{"loopback url", raw("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/x","event_types":["*"]}`), 422, "unprocessable"},
		{"metadata url", raw("POST", "/v1/endpoints", `{"url":"http://169.254.169.254/","event_types":["*"]}`), 422, "unprocessable"},
		{"localhost url", raw("POST", "/v1/endpoints", `{"url":"https://localhost/x","event_types":["*"]}`), 422, "unprocessable"},
		{"ftp url", raw("POST", "/v1/endpoints", `{"url":"ftp://example.com/","event_types":["*"]}`), 422, "unprocessable"},
		{"no url", raw("POST", "/v1/endpoints", `{"event_types":["*"]}`), 400, "invalid_request"},
		{"no event types", raw("POST", "/v1/endpoints", `{"url":"https://93.184.216.34/"}`), 400, "invalid_request"},
		{"bad pattern", raw("POST", "/v1/endpoints", `{"url":"https://93.184.216.34/","event_types":["appointment*"]}`), 400, "invalid_request"},
		{"bad secret", raw("POST", "/v1/endpoints", `{"url":"https://93.184.216.34/","event_types":["*"],"secret":"nope"}`), 400, "invalid_request"},
		{"reserved header", raw("POST", "/v1/endpoints", `{"url":"https://93.184.216.34/","event_types":["*"],"headers":{"webhook-id":"x"}}`), 400, "invalid_request"},
		{"bad status filter", raw("GET", "/v1/endpoints/ep_x/deliveries?status=meh", ""), 404, "not_found"},
		{"bad limit", raw("GET", "/v1/endpoints?limit=0", ""), 400, "invalid_request"},
		{"invalid utf-8 in data", raw("POST", "/v1/events", "{\"type\":\"a.b\",\"data\":{\"x\":\"\xff\"}}"), 400, "invalid_request"},
		{"lone surrogate in data", raw("POST", "/v1/events", `{"type":"a.b","data":{"x":"\ud800"}}`), 400, "invalid_request"},
		{"duplicate key in data", raw("POST", "/v1/events", `{"type":"a.b","data":{"o":{"x":1,"x":2}}}`), 400, "invalid_request"},
		{"duplicate top-level key", raw("POST", "/v1/events", `{"type":"a.b","type":"c.d","data":{}}`), 400, "invalid_request"},
		{"reserved type", raw("POST", "/v1/events", `{"type":"endpoint.disabled","data":{}}`), 400, "invalid_request"},
		{"same header in two cases", raw("POST", "/v1/endpoints", `{"url":"https://93.184.216.34/","event_types":["*"],"headers":{"X-Key":"a","x-key":"b"}}`), 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { apiErr(t, tc.err, tc.status, tc.code) })
	}
	// Nothing was stored by the refused events.
	l, err := c.ListEndpoints(ctx, "", 0)
	if err != nil || len(l.Data) != 0 {
		t.Fatalf("endpoints after refusals: %v %v", l, err)
	}
	// A public URL is accepted (no request is made when saving).
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://93.184.216.34/hook"), EventTypes: &[]string{"*"}}); err != nil {
		t.Fatal(err)
	}
	// Authentication.
	apiErr(t, client.New(e.node.URL(), "sk_wrong").Do(ctx, "GET", "/v1/endpoints", nil, nil), 401, "unauthorized")
	apiErr(t, client.New(e.node.URL(), "").Do(ctx, "GET", "/v1/endpoints", nil, nil), 401, "unauthorized")
	apiErr(t, c.Do(ctx, "POST", "/v1/tenants", map[string]string{"name": "x"}, nil), 401, "unauthorized")
	apiErr(t, e.admin.Do(ctx, "POST", "/v1/tenants", map[string]string{"name": ""}, nil), 400, "invalid_request")
}

func TestAdminOffWithoutToken(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.DB = filepath.Join(t.TempDir(), "s.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.Migrate = true
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	err = client.New(n.URL(), "").Do(context.Background(), "POST", "/v1/tenants", map[string]string{"name": "x"}, nil)
	apiErr(t, err, 401, "unauthorized")
	resp, err := http.Get(n.URL() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	a, b := e.tenant("A"), e.tenant("B")
	rc := receiver.New(nil)
	defer rc.Close()
	ctx := context.Background()
	ep := endpoint(t, a, rc.URL, "*")
	evt := publish(t, a, "x.y", map[string]any{}, "")
	rc.WaitCount(1, 10*time.Second)
	l, _ := a.ListDeliveries(ctx, ep, "", "", 0)
	dlv := l.Data[0].ID
	routes := []struct{ method, path, body string }{
		{"GET", "/v1/endpoints/" + ep, ""},
		{"PATCH", "/v1/endpoints/" + ep, `{"description":"mine"}`},
		{"DELETE", "/v1/endpoints/" + ep, ""},
		{"GET", "/v1/endpoints/" + ep + "/secret", ""},
		{"GET", "/v1/endpoints/" + ep + "/deliveries", ""},
		{"GET", "/v1/events/" + evt, ""},
		{"GET", "/v1/deliveries/" + dlv, ""},
		{"GET", "/v1/deliveries/" + dlv + "/payload", ""},
		{"POST", "/v1/deliveries/" + dlv + "/replay", ""},
	}
	for _, r := range routes {
		var body any
		if r.body != "" {
			body = []byte(r.body)
		}
		apiErr(t, b.Do(ctx, r.method, r.path, body, nil), 404, "not_found")
	}
	lb, err := b.ListEndpoints(ctx, "", 0)
	if err != nil || len(lb.Data) != 0 {
		t.Fatalf("B lists %v", lb)
	}
	// B's events never reach A's endpoint; A's endpoint is intact.
	publish(t, b, "x.y", map[string]any{}, "")
	time.Sleep(200 * time.Millisecond)
	if rc.Count() != 1 {
		t.Fatalf("A's endpoint got %d requests", rc.Count())
	}
	got, err := a.GetEndpoint(ctx, ep)
	if err != nil || got.Description != "" {
		t.Fatalf("A's endpoint = %+v %v", got, err)
	}
}

func TestEndpointCRUDAndDeliveryLog(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		var b struct{ Data struct{ N int } }
		json.Unmarshal(mustBody(r), &b)
		if b.Data.N%2 == 1 {
			w.WriteHeader(http.StatusUnprocessableEntity) // odd events fail every attempt
			return
		}
		w.WriteHeader(200)
	})
	defer rc.Close()
	secret := signature.NewSecret(bytes.Repeat([]byte{7}, 32))
	created, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"n.*"}, Secret: &secret, MaxConcurrency: ptr(2)})
	if err != nil || created.Secret != secret || created.MaxConcurrency != 2 {
		t.Fatalf("create = %+v, %v", created, err)
	}
	ep := created.ID
	upd, err := c.UpdateEndpoint(ctx, ep, client.EndpointInput{Description: ptr("ERP"), EventTypes: &[]string{"n.*", "m.x"}})
	if err != nil || upd.Description != "ERP" || len(upd.EventTypes) != 2 || upd.URL != rc.URL {
		t.Fatalf("patch = %+v, %v", upd, err)
	}
	for i := 0; i < 6; i++ {
		publish(t, c, "n.event", map[string]any{"n": i}, "")
	}
	e.eventually(func() bool {
		l, err := c.ListDeliveries(ctx, ep, slotwire.StatusSucceeded, "", 0)
		f, err2 := c.ListDeliveries(ctx, ep, slotwire.StatusFailed, "", 0)
		return err == nil && err2 == nil && len(l.Data) == 3 && len(f.Data) == 3
	})
	// Cursor pagination over all six, newest first.
	p1, _ := c.ListDeliveries(ctx, ep, "", "", 4)
	if len(p1.Data) != 4 || p1.NextCursor == "" {
		t.Fatalf("page 1 = %d items, cursor %q", len(p1.Data), p1.NextCursor)
	}
	p2, _ := c.ListDeliveries(ctx, ep, "", p1.NextCursor, 4)
	if len(p2.Data) != 2 || p2.NextCursor != "" || p2.Data[0].ID >= p1.Data[3].ID {
		t.Fatalf("page 2 = %+v", p2)
	}
	// Replay a succeeded delivery: same webhook-id, marked replay_of.
	okList, _ := c.ListDeliveries(ctx, ep, slotwire.StatusSucceeded, "", 1)
	orig := okList.Data[0]
	before := rc.Count()
	rep, err := c.Replay(ctx, orig.ID)
	if err != nil || rep.ReplayOf != orig.ID || rep.EventID != orig.EventID || rep.ID == orig.ID {
		t.Fatalf("replay = %+v, %v", rep, err)
	}
	if !rc.WaitCount(before+1, 10*time.Second) {
		t.Fatal("replay not delivered")
	}
	last := rc.Requests()[before]
	if last.Header.Get("webhook-id") != orig.EventID {
		t.Fatal("replay has another webhook-id")
	}
	if err := signature.Verify(secret, last.Header.Get("webhook-id"), last.Header.Get("webhook-timestamp"), last.Header.Get("webhook-signature"), last.Body, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	// Download of the payload.
	var disp string
	req, _ := http.NewRequest("GET", e.node.URL()+"/v1/deliveries/"+orig.ID+"/payload?download=1", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	disp = resp.Header.Get("Content-Disposition")
	resp.Body.Close()
	if !strings.Contains(disp, orig.ID+".json") {
		t.Fatalf("Content-Disposition = %q", disp)
	}
	// Disable, enable, delete.
	off, err := c.UpdateEndpoint(ctx, ep, client.EndpointInput{Enabled: ptr(false)})
	if err != nil || off.Enabled || off.DisabledReason == "" {
		t.Fatalf("disable = %+v %v", off, err)
	}
	on, err := c.UpdateEndpoint(ctx, ep, client.EndpointInput{Enabled: ptr(true)})
	if err != nil || !on.Enabled || on.DisabledReason != "" {
		t.Fatalf("enable = %+v %v", on, err)
	}
	if err := c.DeleteEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(ctx, ep)
	apiErr(t, err, 404, "not_found")
	_, err = c.GetDelivery(ctx, orig.ID)
	apiErr(t, err, 404, "not_found")
}

func mustBody(r *http.Request) []byte {
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	return b.Bytes()
}

func TestCloseDrainsInflight(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.DB = filepath.Join(t.TempDir(), "s.db")
	e := start(t, cfg)
	c := e.tenant("Acme")
	release := make(chan struct{})
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(200)
	})
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "*")
	publish(t, c, "x.y", map[string]any{}, "")
	rc.WaitCount(1, 10*time.Second)
	go func() { time.Sleep(200 * time.Millisecond); close(release) }()
	e.node.Close()
	// Reopen: the drained delivery was recorded as succeeded.
	cfg2 := fast()
	cfg2.DB = cfg.DB
	e2 := start(t, cfg2)
	c2 := client.New(e2.node.URL(), c.Token)
	l, err := c2.ListDeliveries(context.Background(), ep, "", "", 0)
	if err != nil || len(l.Data) != 1 || l.Data[0].Status != slotwire.StatusSucceeded {
		t.Fatalf("after drain: %+v %v", l, err)
	}
}
