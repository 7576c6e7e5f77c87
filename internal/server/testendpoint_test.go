package server_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// POST /v1/endpoints/{id}/test sends a signed webhook.test event now and
// answers with the receiver's status, latency and body; nothing is stored.
func TestTestEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	ok := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"received":true}`))
	})
	defer ok.Close()
	failing := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	defer failing.Close()

	id := endpoint(t, c, ok.URL+"/hook", "visit.*")
	res, err := c.TestEndpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Succeeded || res.StatusCode != 202 || res.Body != `{"received":true}` || !strings.HasPrefix(res.EventID, "evt_") || res.Error != "" {
		t.Fatalf("test result = %+v", res)
	}
	reqs := ok.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	h := reqs[0].Header
	secret, _ := c.EndpointSecret(ctx, id)
	if err := signature.Verify(secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"),
		reqs[0].Body, time.Now(), 5*time.Minute); err != nil || h.Get("webhook-id") != res.EventID {
		t.Fatalf("test event not signed like a delivery: %v", err)
	}
	if !strings.Contains(string(reqs[0].Body), `"type":"webhook.test"`) || !strings.Contains(string(reqs[0].Body), id) {
		t.Fatalf("body = %s", reqs[0].Body)
	}
	if _, err := c.GetEvent(ctx, res.EventID); err == nil {
		t.Fatal("the test event was stored")
	}

	res, err = c.TestEndpoint(ctx, endpoint(t, c, failing.URL, "visit.*"))
	if err != nil || res.Succeeded || res.StatusCode != 503 {
		t.Fatalf("failing receiver: %+v, %v", res, err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	res, err = c.TestEndpoint(ctx, endpoint(t, c, closed, "visit.*"))
	if err != nil || res.Succeeded || res.StatusCode != 0 || !strings.Contains(res.Error, "refused") {
		t.Fatalf("closed port: %+v, %v", res, err)
	}
	_, err = c.TestEndpoint(ctx, "ep_nope")
	apiErr(t, err, 404, "not_found")
	_, err = c.Publish(ctx, "webhook.test", map[string]int{"n": 1}, "")
	apiErr(t, err, 400, "invalid_request")
}
