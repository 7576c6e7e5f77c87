package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// Endpoints route by the event's source as Dime.Scheduler connectors do:
// one back office's events reach only the endpoints that accept its app
// (and type), or that have no source filter.
func TestSourceRouting(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	recv := map[string]*receiver.Receiver{}
	mk := func(name string, in client.EndpointInput) {
		rc := receiver.New(nil)
		t.Cleanup(rc.Close)
		recv[name] = rc
		in.URL, in.EventTypes = ptr(rc.URL), &[]string{"order.*"}
		if _, err := c.CreateEndpoint(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	mk("us", client.EndpointInput{SourceApps: &[]string{"BC-US"}})
	mk("eu", client.EndpointInput{SourceApps: &[]string{"BC-EU"}})
	mk("any", client.EndpointInput{})
	mk("orders", client.EndpointInput{SourceTypes: &[]string{"service_order"}})
	pub := func(src *client.EventSource) string {
		a, err := c.PublishEvent(ctx, client.EventInput{Type: "order.updated", Data: json.RawMessage(`{"n":1}`), Source: src})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	us := pub(&client.EventSource{App: "BC-US", Type: "service_order"})
	eu := pub(&client.EventSource{App: "BC-EU", Type: "project"})
	none := pub(nil)
	want := map[string][]string{"us": {us}, "eu": {eu}, "any": {us, eu, none}, "orders": {us}}
	for name, ids := range want {
		rc := recv[name]
		if !rc.WaitCount(len(ids), 10*time.Second) {
			t.Fatalf("%s got %d, want %d", name, rc.Count(), len(ids))
		}
		for _, id := range ids {
			if rc.IDs()[id] != 1 {
				t.Errorf("%s did not get %s", name, id)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	for name, ids := range want {
		if n := recv[name].Count(); n != len(ids) {
			t.Errorf("%s got %d events, want %d", name, n, len(ids))
		}
	}
	// The source is in the payload and on the event.
	if ev, err := c.GetEvent(ctx, us); err != nil || ev.Source == nil || ev.Source.App != "BC-US" {
		t.Fatalf("event = %+v, %v", ev, err)
	}
	body := string(recv["us"].Requests()[0].Body)
	if !strings.Contains(body, `"source":{"app":"BC-US","type":"service_order"}`) {
		t.Fatalf("payload = %s", body)
	}
	_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}, SourceApps: &[]string{""}})
	apiErr(t, err, 400, "invalid_request")
	_, err = c.PublishEvent(ctx, client.EventInput{Type: "order.updated", Data: json.RawMessage(`{}`), Source: &client.EventSource{App: strings.Repeat("x", 129)}})
	apiErr(t, err, 400, "invalid_request")
}

// payload_format flat and thin change the body sent (and signed), and the
// payload route shows what was sent.
func TestPayloadFormats(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	got := map[string]*receiver.Receiver{}
	for _, f := range []string{"flat", "thin"} {
		rc := receiver.New(nil)
		t.Cleanup(rc.Close)
		got[f] = rc
		if _, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"visit.*"}, PayloadFormat: ptr(f)}); err != nil {
			t.Fatal(err)
		}
	}
	id := publish(t, c, "visit.booked", map[string]any{"id": "vis_1", "customer_id": "cus_9", "customer": map[string]string{"email": "a@example.com"}}, "")
	for f, rc := range got {
		if !rc.WaitCount(1, 10*time.Second) {
			t.Fatalf("%s: nothing delivered", f)
		}
		req := rc.Requests()[0]
		var m map[string]any
		if err := json.Unmarshal(req.Body, &m); err != nil {
			t.Fatal(err)
		}
		switch f {
		case "flat":
			if m["data.customer.email"] != "a@example.com" || m["data.id"] != "vis_1" || m["id"] != id {
				t.Errorf("flat body = %s", req.Body)
			}
		case "thin":
			d, _ := m["data"].(map[string]any)
			if d["id"] != "vis_1" || d["customer_id"] != "cus_9" || d["customer"] != nil || m["type"] != "visit.booked" {
				t.Errorf("thin body = %s", req.Body)
			}
		}
		eps, _ := c.ListEndpoints(ctx, "", 10)
		for _, ep := range eps.Data {
			if ep.URL == rc.URL {
				secret, _ := c.EndpointSecret(ctx, ep.ID)
				h := req.Header
				if err := signature.Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), req.Body, time.Now(), time.Minute); err != nil {
					t.Errorf("%s body not signed as sent: %v", f, err)
				}
				ds, _ := c.ListDeliveries(ctx, ep.ID, "", "", 1)
				resp, err := sendRaw(c, "/v1/deliveries/"+ds.Data[0].ID+"/payload")
				if err != nil || resp != string(req.Body) {
					t.Errorf("%s payload route = %s, %v; sent %s", f, resp, err, req.Body)
				}
			}
		}
	}
	_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}, PayloadFormat: ptr("xml")})
	apiErr(t, err, 400, "invalid_request")
}

// sendRaw GETs a path with the client's key and returns the body.
func sendRaw(c *client.Client, path string) (string, error) {
	req, _ := http.NewRequest("GET", c.BaseURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
