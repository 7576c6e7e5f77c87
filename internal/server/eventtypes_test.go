package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/server"
)

// A tenant registers its own event types, with a JSON Schema its data
// must match; with strict_event_types it publishes and subscribes to
// registered (or catalog) types only.
func TestEventTypeRegistry(t *testing.T) {
	t.Parallel()
	cfg := withCatalogScopes()
	cfg.Extensions = append(cfg.Extensions, func(n *server.Node) error { n.AddCatalog(scheduling.CatalogSource{}); return nil })
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	paid := json.RawMessage(`{"type":"invoice.paid","description":"An invoice was paid.",
		"schema":{"type":"object","required":["amount"],"properties":{"amount":{"type":"number"}}},"example":{"amount":42}}`)
	if err := c.Do(ctx, "POST", "/v1/event-types", paid, nil); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []map[string]any `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/event-types", nil, &list); err != nil || len(list.Data) < 30 {
		t.Fatalf("event types = %d, %v", len(list.Data), err)
	}
	last := list.Data[len(list.Data)-1]
	if last["type"] != "invoice.paid" || last["custom"] != true || last["scope"] != "custom" || last["schema"] == nil {
		t.Fatalf("own type listed as %+v", last)
	}
	_, err := c.Publish(ctx, "invoice.paid", map[string]any{"amount": "lots"}, "")
	apiErr(t, err, 400, "invalid_request")
	if !strings.Contains(err.Error(), "data.amount") {
		t.Fatalf("the refusal does not name the path: %v", err)
	}
	publish(t, c, "invoice.paid", map[string]any{"amount": 12.5}, "")
	publish(t, c, "order.shipped", map[string]any{"n": 1}, "") // not strict: unregistered types flow

	apiErr(t, c.Do(ctx, "POST", "/v1/event-types", paid, nil), 409, "conflict")
	apiErr(t, c.Do(ctx, "POST", "/v1/event-types", json.RawMessage(`{"type":"a.b","schema":{"type":5}}`), nil), 422, "unprocessable")
	apiErr(t, c.Do(ctx, "POST", "/v1/event-types", json.RawMessage(`{"type":"a.c","schema":{"type":"object","required":["x"]},"example":{}}`), nil), 422, "unprocessable")
	apiErr(t, c.Do(ctx, "POST", "/v1/event-types", json.RawMessage(`{"type":"appointment.created"}`), nil), 409, "conflict")
	apiErr(t, c.Do(ctx, "POST", "/v1/event-types", json.RawMessage(`{"type":"endpoint.x"}`), nil), 400, "invalid_request")
	crm := createKey(t, e, c, "crm", "customers")
	apiErr(t, crm.Do(ctx, "POST", "/v1/event-types", json.RawMessage(`{"type":"x.y"}`), nil), 403, "missing_scope")

	// Strict mode.
	var set map[string]bool
	if err := c.Do(ctx, "PATCH", "/v1/settings", json.RawMessage(`{"strict_event_types":true}`), &set); err != nil || !set["strict_event_types"] {
		t.Fatalf("settings = %v, %v", set, err)
	}
	_, err = c.Publish(ctx, "order.shipped", map[string]any{"n": 2}, "")
	apiErr(t, err, 400, "invalid_request")
	publish(t, c, "invoice.paid", map[string]any{"amount": 1}, "")
	sub := func(types ...string) error {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &types})
		return err
	}
	apiErr(t, sub("order.*"), 400, "invalid_request")
	for _, ok := range [][]string{{"invoice.*"}, {"invoice.paid", "appointment.*"}, {"*"}} {
		if err := sub(ok...); err != nil {
			t.Errorf("subscribing to %v: %v", ok, err)
		}
	}
	if err := c.Do(ctx, "DELETE", "/v1/event-types/invoice.paid", nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(ctx, "invoice.paid", map[string]any{"amount": 1}, "")
	apiErr(t, err, 400, "invalid_request") // archived: unregistered again
	apiErr(t, c.Do(ctx, "DELETE", "/v1/event-types/invoice.paid", nil, nil), 404, "not_found")
	apiErr(t, crm.Do(ctx, "PATCH", "/v1/settings", json.RawMessage(`{"strict_event_types":false}`), nil), 403, "missing_scope")
}
