package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/receiver"
)

// An endpoint with verify receives nothing until its URL echoes a
// challenge; events published meanwhile wait and are delivered once it
// does; a new URL is challenged again.
func TestEndpointVerification(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	var echo atomic.Bool
	var asJSON atomic.Bool
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Challenge string `json:"challenge"`
			} `json:"data"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &ev)
		if ev.Type == "webhook.verification" && echo.Load() {
			if asJSON.Load() {
				json.NewEncoder(w).Encode(map[string]string{"challenge": ev.Data.Challenge})
			} else {
				w.Write([]byte(ev.Data.Challenge))
			}
		}
	})
	defer rc.Close()
	verify := true
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL + "/a"), EventTypes: &[]string{"visit.*"}, Verify: &verify})
	if err != nil {
		t.Fatal(err)
	}
	if !ep.PendingVerification {
		t.Fatal("an endpoint whose receiver did not echo is not pending_verification")
	}
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	time.Sleep(300 * time.Millisecond)
	if rc.IDs()[id] != 0 {
		t.Fatal("an unverified endpoint received an event")
	}
	echo.Store(true)
	var res map[string]bool
	if err := c.Do(ctx, "POST", "/v1/endpoints/"+ep.ID+"/verify", nil, &res); err != nil || !res["verified"] {
		t.Fatalf("verify = %v, %v", res, err)
	}
	if !rc.WaitFor(10*time.Second, func() bool { return rc.IDs()[id] == 1 }) {
		t.Fatal("the event queued while pending was not delivered after verification")
	}
	if got, _ := c.GetEndpoint(ctx, ep.ID); got.PendingVerification {
		t.Fatal("still pending after verification")
	}
	// A new URL is challenged at once; this receiver echoes as JSON.
	asJSON.Store(true)
	up, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{URL: ptr(rc.URL + "/b")})
	if err != nil || up.PendingVerification {
		t.Fatalf("new URL echoed as JSON: %+v, %v", up, err)
	}
	echo.Store(false)
	up, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{URL: ptr(rc.URL + "/c")})
	if err != nil || !up.PendingVerification {
		t.Fatalf("new URL without an echo: %+v, %v", up, err)
	}
	plain := endpoint(t, c, rc.URL+"/plain", "visit.*")
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/"+plain+"/verify", nil, nil), 400, "invalid_request")
}

// At most ingest.MaxUnverifiedQueue deliveries wait for an endpoint
// pending verification; later events are not queued for it.
func TestUnverifiedQueueBound(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil) // never echoes: stays pending
	defer rc.Close()
	verify := true
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"visit.*"}, Verify: &verify})
	if err != nil || !ep.PendingVerification {
		t.Fatalf("%+v, %v", ep, err)
	}
	batch := make([]client.EventInput, 100)
	for i := range batch {
		batch[i] = client.EventInput{Type: "visit.created", Data: json.RawMessage(`{}`)}
	}
	for i := 0; i < 11; i++ {
		if _, err := c.PublishBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.ListDeliveries(ctx, ep.ID, "pending", "", 1000)
	if err != nil || len(page.Data) != ingest.MaxUnverifiedQueue || page.NextCursor == "" {
		t.Fatalf("%d pending deliveries (next %q), want %d: %v", len(page.Data), page.NextCursor, ingest.MaxUnverifiedQueue, err)
	}
	if more, _ := c.ListDeliveries(ctx, ep.ID, "pending", page.NextCursor, 1000); len(more.Data) != 0 {
		t.Fatalf("%d deliveries past the bound", len(more.Data))
	}
}
