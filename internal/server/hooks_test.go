package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/server"
)

// REST Hooks as Zapier and Power Automate use them: subscribe with a
// target URL and an event, get an id and a Location, receive, unsubscribe;
// a 410 from the target removes the hook and says so in endpoint.deleted.
func TestRESTHooks(t *testing.T) {
	t.Parallel()
	cfg := withCatalogScopes()
	cfg.Extensions = append(cfg.Extensions, func(n *server.Node) error { n.AddSampler(scheduling.Sample); return nil })
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	var gone atomic.Bool
	target := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
		}
	})
	defer target.Close()
	ops := receiver.New(nil) // the tenant's own endpoint for endpoint.* events
	defer ops.Close()
	endpoint(t, c, ops.URL, "endpoint.*")

	var hook struct {
		ID        string   `json:"id"`
		TargetURL string   `json:"target_url"`
		Events    []string `json:"events"`
		Secret    string   `json:"secret"`
	}
	req, _ := json.Marshal(map[string]string{"target_url": target.URL, "event": "invoice.paid"})
	if err := c.Do(ctx, "POST", "/v1/hooks", json.RawMessage(req), &hook); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hook.ID, "ep_") || hook.TargetURL != target.URL || len(hook.Events) != 1 || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("hook = %+v", hook)
	}
	ep, err := c.GetEndpoint(ctx, hook.ID)
	if err != nil || !ep.RESTHook {
		t.Fatalf("hook endpoint = %+v, %v", ep, err)
	}
	id1 := publish(t, c, "invoice.paid", map[string]int{"n": 1}, "")
	if !target.WaitFor(10*time.Second, func() bool { return target.IDs()[id1] == 1 }) {
		t.Fatal("the hook did not receive the event")
	}
	// Unsubscribe through the Location a new hook answers with.
	hr, _ := http.NewRequest("POST", c.BaseURL+"/v1/hooks", strings.NewReader(`{"target_url":"https://example.com/z","events":["invoice.paid"]}`))
	hr.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil || resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), "/v1/hooks/ep_") {
		t.Fatalf("POST /v1/hooks: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := c.Do(ctx, "DELETE", resp.Header.Get("Location"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "DELETE", "/v1/hooks/"+hook.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(ctx, hook.ID)
	apiErr(t, err, 404, "not_found")
	// A plain endpoint is not a hook.
	plain := endpoint(t, c, "https://example.com/plain", "invoice.*")
	apiErr(t, c.Do(ctx, "DELETE", "/v1/hooks/"+plain, nil, nil), 404, "not_found")

	// A 410 removes the hook and tells the tenant why.
	if err := c.Do(ctx, "POST", "/v1/hooks", json.RawMessage(req), &hook); err != nil {
		t.Fatal(err)
	}
	gone.Store(true)
	publish(t, c, "invoice.paid", map[string]int{"n": 2}, "")
	e.eventually(func() bool { _, err := c.GetEndpoint(ctx, hook.ID); return err != nil })
	if !ops.WaitFor(10*time.Second, func() bool {
		for _, r := range ops.Requests() {
			if strings.Contains(string(r.Body), `"type":"endpoint.deleted"`) && strings.Contains(string(r.Body), hook.ID) &&
				strings.Contains(string(r.Body), "410") {
				return true
			}
		}
		return false
	}) {
		t.Fatal("no endpoint.deleted event for the hook removed after a 410")
	}

	// Samples, for Zapier's perform-list.
	var samples []map[string]any
	if err := c.Do(ctx, "GET", "/v1/hooks/sample?event=appointment.created", nil, &samples); err != nil || len(samples) != 1 ||
		samples[0]["type"] != "appointment.created" || samples[0]["data"] == nil {
		t.Fatalf("sample = %+v, %v", samples, err)
	}
	apiErr(t, c.Do(ctx, "GET", "/v1/hooks/sample?event=invoice.paid", nil, nil), 404, "not_found")
	apiErr(t, c.Do(ctx, "POST", "/v1/hooks", json.RawMessage(`{"target_url":"https://example.com/x"}`), nil), 400, "invalid_request")
}
