package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/signature"
)

const adminToken = "admin-secret"

// startServer runs a real Slotwire node on a temporary SQLite file and
// returns an admin client for it.
func startServer(t *testing.T) *client.Client {
	t.Helper()
	var cfg server.Config
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.Migrate = true
	cfg.AllowPrivateEndpoints = true
	cfg.Delivery.Schedule = []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond}
	cfg.Delivery.Jitter = -1
	cfg.Delivery.PollInterval = 50 * time.Millisecond
	cfg.Delivery.Timeout = 2 * time.Second
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return client.New(n.URL()+"/", adminToken)
}

func tenantClient(t *testing.T, admin *client.Client) *client.Client {
	t.Helper()
	ten, err := admin.CreateTenant(context.Background(), "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ten.ID, "ten_") || !strings.HasPrefix(ten.APIKey, "sk_") || ten.Name != "Acme" || ten.CreatedAt.IsZero() {
		t.Fatalf("tenant = %+v", ten)
	}
	return client.New(admin.BaseURL, ten.APIKey)
}

func ptr[T any](v T) *T { return &v }

func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != status || ce.Code != code || ce.Message == "" {
		t.Fatalf("err = %v, want HTTP %d %s with a message", err, status, code)
	}
}

func TestTenantsAndKeys(t *testing.T) {
	ctx := context.Background()
	admin := startServer(t)
	c := tenantClient(t, admin)
	ts, err := admin.ListTenants(ctx)
	if err != nil || len(ts) != 1 || ts[0].Name != "Acme" || ts[0].Plan != "unlimited" {
		t.Fatalf("ListTenants = %+v, %v", ts, err)
	}
	key, err := admin.CreateAPIKey(ctx, ts[0].ID)
	if err != nil || key.TenantID != ts[0].ID || !strings.HasPrefix(key.Key, "sk_") {
		t.Fatalf("CreateAPIKey = %+v, %v", key, err)
	}
	// Both keys act for the same tenant.
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("http://127.0.0.1:9/h"), EventTypes: &[]string{"*"}}); err != nil {
		t.Fatal(err)
	}
	l, err := client.New(admin.BaseURL, key.Key).ListEndpoints(ctx, "", 0)
	if err != nil || len(l.Data) != 1 {
		t.Fatalf("ListEndpoints with the second key = %+v, %v", l, err)
	}
	// A tenant key is not an admin token.
	_, err = c.ListTenants(ctx)
	wantAPIError(t, err, http.StatusUnauthorized, "unauthorized")
	_, err = client.New(admin.BaseURL, "sk_wrong").ListEndpoints(ctx, "", 0)
	wantAPIError(t, err, http.StatusUnauthorized, "unauthorized")
}

func TestEndpointLifecycle(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	created, err := c.CreateEndpoint(ctx, client.EndpointInput{
		URL: ptr("http://127.0.0.1:9/hooks"), EventTypes: &[]string{"invoice.*"}, Description: ptr("ERP"),
		Headers: &map[string]string{"X-Env": "test"}, MaxConcurrency: ptr(3), RateLimit: ptr(10), Ordering: ptr("fifo"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ep := created.Endpoint
	if !strings.HasPrefix(ep.ID, "ep_") || !strings.HasPrefix(created.Secret, "whsec_") || !ep.Enabled ||
		ep.Description != "ERP" || ep.Headers["X-Env"] != "****" || ep.MaxConcurrency != 3 || ep.RateLimit != 10 || ep.Ordering != "fifo" {
		t.Fatalf("created = %+v", created)
	}
	secret, err := c.EndpointSecret(ctx, ep.ID)
	if err != nil || secret != created.Secret {
		t.Fatalf("EndpointSecret = %q, %v; want %q", secret, err, created.Secret)
	}
	upd, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Enabled: ptr(false), EventTypes: &[]string{"invoice.paid", "order.*"}})
	if err != nil || upd.Enabled || len(upd.EventTypes) != 2 || upd.Description != "ERP" || upd.URL != ep.URL {
		t.Fatalf("UpdateEndpoint = %+v, %v (unset fields must keep their value)", upd, err)
	}
	got, err := c.GetEndpoint(ctx, ep.ID)
	if err != nil || got.Enabled || got.EventTypes[1] != "order.*" {
		t.Fatalf("GetEndpoint = %+v, %v", got, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("http://127.0.0.1:9/x"), EventTypes: &[]string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := c.ListEndpoints(ctx, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Data {
			seen[e.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 3 {
		t.Fatalf("paging saw %d endpoints, want 3", len(seen))
	}
	if err := c.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(ctx, ep.ID)
	wantAPIError(t, err, http.StatusNotFound, "not_found")
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("ftp://x"), EventTypes: &[]string{"*"}})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status/100 != 4 {
		t.Fatalf("bad URL: err = %v, want a 4xx *client.Error", err)
	}
}

// TestPublishDeliverReplay walks a publisher's path: publish, see the
// signed webhook arrive, read the delivery log and payload, replay.
func TestPublishDeliverReplay(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	rc := receiver.New(func(n int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	defer rc.Close()
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL + "/hooks"), EventTypes: &[]string{"invoice.paid"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.Publish(ctx, "invoice.paid", map[string]any{"invoice_id": "inv_1", "amount": 4200}, "inv-1")
	if err != nil || !strings.HasPrefix(acc.ID, "evt_") || acc.Duplicate {
		t.Fatalf("Publish = %+v, %v", acc, err)
	}
	again, err := c.Publish(ctx, "invoice.paid", map[string]any{"invoice_id": "inv_1", "amount": 4200}, "inv-1")
	if err != nil || again.ID != acc.ID || !again.Duplicate {
		t.Fatalf("second Publish = %+v, %v; want the same id, duplicate", again, err)
	}
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("no webhook received")
	}
	req := rc.Requests()[0]
	if err := signature.Verify(ep.Secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
		req.Header.Get("webhook-signature"), req.Body, time.Now(), signature.DefaultTolerance); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var wire client.Event
	if err := json.Unmarshal(req.Body, &wire); err != nil || wire.ID != acc.ID || wire.Type != "invoice.paid" {
		t.Fatalf("webhook body %s: %+v, %v", req.Body, wire, err)
	}
	ev, err := c.GetEvent(ctx, acc.ID)
	if err != nil || ev.Type != "invoice.paid" || ev.IdempotencyKey != "inv-1" || ev.Timestamp.IsZero() ||
		!strings.Contains(string(ev.Data), `"inv_1"`) {
		t.Fatalf("GetEvent = %+v, %v", ev, err)
	}
	var det *client.DeliveryDetail
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := c.ListDeliveries(ctx, ep.ID, client.StatusSucceeded, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Data) == 1 {
			if det, err = c.GetDelivery(ctx, l.Data[0].ID); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery not recorded as succeeded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if det.EventID != acc.ID || det.EndpointID != ep.ID || det.Attempts != 1 || det.LastStatusCode != 204 ||
		len(det.AttemptLog) != 1 || det.AttemptLog[0].StatusCode != 204 || det.AttemptLog[0].Number != 1 {
		t.Fatalf("GetDelivery = %+v", det)
	}
	payload, err := c.DeliveryPayload(ctx, det.ID)
	if err != nil || string(payload) != string(req.Body) {
		t.Fatalf("DeliveryPayload = %s, %v; want the bytes sent: %s", payload, err, req.Body)
	}
	rep, err := c.Replay(ctx, det.ID)
	if err != nil || rep.ReplayOf != det.ID || rep.EventID != acc.ID || rep.ID == det.ID {
		t.Fatalf("Replay = %+v, %v", rep, err)
	}
	if !rc.WaitCount(2, 10*time.Second) || rc.Requests()[1].Header.Get("webhook-id") != acc.ID {
		t.Fatal("replay not delivered with the same webhook-id")
	}
	_, err = c.GetDelivery(ctx, "dlv_missing")
	wantAPIError(t, err, http.StatusNotFound, "not_found")
}

func TestPublishBatchAndErrors(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	res, err := c.PublishBatch(ctx, []client.EventInput{
		{Type: "invoice.paid", Data: json.RawMessage(`{"n":1}`)},
		{Type: "bad type!", Data: json.RawMessage(`{}`)},
		{Type: "invoice.paid", Data: json.RawMessage(`{"n":2}`), IdempotencyKey: "k2"},
	})
	if err != nil || len(res) != 3 {
		t.Fatalf("PublishBatch = %+v, %v", res, err)
	}
	if !strings.HasPrefix(res[0].ID, "evt_") || res[0].Error != nil ||
		res[1].ID != "" || res[1].Error == nil || res[1].Error.Code != "invalid_request" ||
		!strings.HasPrefix(res[2].ID, "evt_") {
		t.Fatalf("PublishBatch results = %+v", res)
	}
	_, err = c.Publish(ctx, "", map[string]any{}, "")
	wantAPIError(t, err, http.StatusBadRequest, "invalid_request")
	if _, err := c.Publish(ctx, "invoice.paid", func() {}, ""); err == nil {
		t.Fatal("Publish with unencodable data: no error")
	}
	// Do reaches routes the client has no method for, and raw bodies.
	var health map[string]string
	if err := c.Do(ctx, http.MethodGet, "/healthz", nil, &health); err != nil || health["status"] != "ok" {
		t.Fatalf("healthz = %v, %v", health, err)
	}
	var acc client.EventAccepted
	if err := c.Do(ctx, http.MethodPost, "/v1/events", []byte(`{"type":"invoice.paid","data":{}}`), &acc); err != nil || acc.ID == "" {
		t.Fatalf("Do raw = %+v, %v", acc, err)
	}
}

func TestEraseAndListErasures(t *testing.T) {
	ctx := context.Background()
	c := tenantClient(t, startServer(t))
	acc, err := c.Publish(ctx, "crm.contact.updated", map[string]any{"contact": map[string]any{"email": "jan@example.com", "name": "Jan"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Erase(ctx, client.ErasureInput{})
	wantAPIError(t, err, http.StatusBadRequest, "invalid_request")
	e, err := c.Erase(ctx, client.ErasureInput{Email: "Jan@Example.com"})
	if err != nil || !strings.HasPrefix(e.ID, "era_") || e.Subject != "email" || e.APIKeyID == "" || e.CreatedAt.IsZero() ||
		e.Counts["events"] != 1 || e.Counts["attempts"] != 0 {
		t.Fatalf("Erase = %+v, %v", e, err)
	}
	ev, err := c.GetEvent(ctx, acc.ID)
	if err != nil || string(ev.Data) != `{"contact":{"email":"[erased]","name":"[erased]"}}` {
		t.Fatalf("event after the erasure: %s, %v", ev.Data, err)
	}
	second, err := c.Erase(ctx, client.ErasureInput{CustomerID: "cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5"})
	if err != nil || second.Subject != "customer_id" || second.Counts["events"] != 0 {
		t.Fatalf("second Erase = %+v, %v", second, err)
	}
	l, err := c.ListErasures(ctx, "", 1)
	if err != nil || len(l.Data) != 1 || l.Data[0].ID != second.ID || l.NextCursor != second.ID {
		t.Fatalf("first page = %+v, %v", l, err)
	}
	l, err = c.ListErasures(ctx, l.NextCursor, 1)
	if err != nil || len(l.Data) != 1 || l.Data[0].ID != e.ID || l.Data[0].Counts["events"] != 1 || !l.Data[0].CreatedAt.Equal(e.CreatedAt) {
		t.Fatalf("second page = %+v, %v", l, err)
	}
}

// TestOperatorView: the admin token reads the nodes, the queue and the
// tenants with their figures; a tenant key is refused.
func TestOperatorView(t *testing.T) {
	ctx := context.Background()
	admin := startServer(t)
	c := tenantClient(t, admin)
	if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("http://127.0.0.1:9/h"), EventTypes: &[]string{"*"}}); err != nil {
		t.Fatal(err)
	}
	ns, err := admin.ListNodes(ctx)
	if err != nil || len(ns) != 1 || ns[0].Role != "all" || !ns[0].Alive || ns[0].HeartbeatAt.IsZero() {
		t.Fatalf("ListNodes = %+v, %v", ns, err)
	}
	q, err := admin.Queue(ctx)
	if err != nil || q.Pending != 0 || q.OldestCreatedAt != nil || q.OldestAgeSeconds != nil {
		t.Fatalf("Queue = %+v, %v", q, err)
	}
	ts, err := admin.ListTenantFigures(ctx)
	if err != nil || len(ts) != 1 || ts[0].Name != "Acme" || ts[0].EndpointCount != 1 || ts[0].Deliveries24h.SuccessRate != nil {
		t.Fatalf("ListTenantFigures = %+v, %v", ts, err)
	}
	_, err = c.ListNodes(ctx)
	wantAPIError(t, err, http.StatusUnauthorized, "unauthorized")
}
