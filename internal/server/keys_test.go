package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/server"
)

// withCatalogScopes is a node config with the scheduling catalog's scopes
// (customers, events …), as the slotwire binary links them in.
func withCatalogScopes() server.Config {
	cfg := fast()
	cfg.Extensions = []server.Extension{func(n *server.Node) error {
		scheduling.RegisterScopes(n.Scopes)
		return nil
	}}
	return cfg
}

// createKey makes an API key with scopes through POST /v1/api-keys.
func createKey(t *testing.T, e *env, admin *client.Client, name string, scopes ...string) *client.Client {
	t.Helper()
	k, err := admin.CreateKey(context.Background(), name, scopes...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Secret, "sk_") || k.Name != name || k.Last4 != k.Secret[len(k.Secret)-4:] || len(k.Scopes) != len(scopes) {
		t.Fatalf("created key = %+v", k)
	}
	return client.New(e.node.URL(), k.Secret)
}

// API keys are created with scopes, listed without their secret and
// revoked; a revoked key answers 401 on its next request, publishes
// included (those use the key cache).
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := start(t, withCatalogScopes())
	admin := e.tenant("Acme")
	ctx := context.Background()
	zapier := createKey(t, e, admin, "zapier", "events", "customers")
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if err := admin.Do(ctx, "GET", "/v1/api-keys", nil, &list); err != nil || len(list.Data) != 2 {
		t.Fatalf("keys = %+v, %v", list, err)
	}
	var zid string
	for _, k := range list.Data {
		if _, leak := k["api_key"]; leak {
			t.Fatal("GET /v1/api-keys shows a key")
		}
		if k["name"] == "zapier" {
			zid = k["id"].(string)
		}
	}
	// The key works, and is in the publish path's cache.
	if _, err := zapier.Publish(ctx, "appointment.note", map[string]int{"n": 1}, ""); err != nil && !strings.Contains(err.Error(), "schema") {
		t.Fatal(err)
	}
	if keys, err := admin.ListKeys(ctx); err != nil || len(keys) != 2 || keys[1].ID != zid || keys[1].Scopes[0] != "events" {
		t.Fatalf("ListKeys = %+v, %v", keys, err)
	}
	if err := admin.DeleteKey(ctx, zid); err != nil {
		t.Fatal(err)
	}
	_, err := zapier.ListEndpoints(ctx, "", 10)
	apiErr(t, err, 401, "unauthorized")
	_, err = zapier.Publish(ctx, "appointment.note", map[string]int{"n": 2}, "")
	apiErr(t, err, 401, "unauthorized")
	// Bad input, non-admin keys, the last admin key.
	apiErr(t, admin.Do(ctx, "POST", "/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"everything"}}, nil), 400, "invalid_request")
	apiErr(t, admin.Do(ctx, "POST", "/v1/api-keys", map[string]any{"name": "x"}, nil), 400, "invalid_request")
	reader := createKey(t, e, admin, "reader", "customers")
	apiErr(t, reader.Do(ctx, "GET", "/v1/api-keys", nil, nil), 403, "missing_scope")
	for _, k := range list.Data {
		if k["name"] == "default" {
			apiErr(t, admin.Do(ctx, "DELETE", "/v1/api-keys/"+k["id"].(string), nil, nil), 409, "conflict")
		}
	}
	apiErr(t, admin.Do(ctx, "DELETE", "/v1/api-keys/key_nope", nil, nil), 404, "not_found")
}

// A key may only subscribe, publish, read and replay within its scopes;
// "*" needs admin; others get 403 missing_scope naming the scope.
func TestScopes(t *testing.T) {
	t.Parallel()
	e := start(t, withCatalogScopes())
	admin := e.tenant("Acme")
	ctx := context.Background()
	crm := createKey(t, e, admin, "crm", "customers")
	sub := func(c *client.Client, types ...string) (*client.EndpointWithSecret, error) {
		return c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &types})
	}
	ep, err := sub(crm, "customer.*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sub(crm, "customer.created", "appointment.created")
	apiErr(t, err, 403, "missing_scope")
	if !strings.Contains(err.Error(), `"events"`) {
		t.Fatalf("the refusal does not name the scope: %v", err)
	}
	_, err = sub(crm, "*")
	apiErr(t, err, 403, "missing_scope")
	_, err = sub(crm, "invoice.paid")
	apiErr(t, err, 403, "missing_scope") // custom types need "custom"
	_, err = crm.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{EventTypes: &[]string{"appointment.*"}})
	apiErr(t, err, 403, "missing_scope")

	all, err := sub(admin, "*")
	if err != nil {
		t.Fatal(err)
	}
	_, err = crm.GetEndpoint(ctx, all.ID)
	apiErr(t, err, 403, "missing_scope")
	list, err := crm.ListEndpoints(ctx, "", 100)
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != ep.ID {
		t.Fatalf("crm sees %+v, %v", list, err)
	}
	_, err = crm.Publish(ctx, "invoice.paid", map[string]int{"n": 1}, "")
	apiErr(t, err, 403, "missing_scope")
	a, err := admin.Publish(ctx, "invoice.paid", map[string]int{"n": 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = crm.GetEvent(ctx, a.ID)
	apiErr(t, err, 403, "missing_scope")
	custom := createKey(t, e, admin, "billing", "custom")
	if _, err := custom.Publish(ctx, "invoice.paid", map[string]int{"n": 2}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := custom.GetEvent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
}
