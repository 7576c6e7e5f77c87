package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// An endpoint's jq filter decides which events are sent (the others are
// "filtered"), its transform makes the body (signed as sent); a bad
// expression is refused on save, one that fails or runs away fails the
// delivery at once with its error, without retries or harm to the
// endpoint's health.
func TestJQFilterAndTransform(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	ep, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"order.*"},
		Filter: ptr(`.data.total > 100`), Transform: ptr(`{order: .data.id, total: .data.total, kind: .type}`)})
	if err != nil {
		t.Fatal(err)
	}
	big := publish(t, c, "order.placed", map[string]any{"id": "o1", "total": 250}, "")
	small := publish(t, c, "order.placed", map[string]any{"id": "o2", "total": 5}, "")
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("the matching event was not sent")
	}
	req := rc.Requests()[0]
	if string(req.Body) != `{"kind":"order.placed","order":"o1","total":250}` || req.Header.Get("webhook-id") != big {
		t.Fatalf("sent %s", req.Body)
	}
	e.eventually(func() bool {
		ds, _ := c.ListDeliveries(ctx, ep.ID, "filtered", "", 10)
		return ds != nil && len(ds.Data) == 1 && ds.Data[0].EventID == small
	})
	// A runtime error fails the delivery at once; a runaway expression too.
	for _, f := range []string{`.data.total | error("no total")`, `def f: f; f`} {
		if _, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Filter: ptr(f)}); err != nil {
			t.Fatal(err)
		}
		publish(t, c, "order.placed", map[string]any{"id": "o3", "total": 500}, "")
	}
	e.eventually(func() bool {
		ds, _ := c.ListDeliveries(ctx, ep.ID, "failed", "", 10)
		if ds == nil || len(ds.Data) != 2 {
			return false
		}
		return strings.Contains(ds.Data[0].LastError+ds.Data[1].LastError, "no total") &&
			strings.Contains(ds.Data[0].LastError+ds.Data[1].LastError, "longer than")
	})
	if got, _ := c.GetEndpoint(ctx, ep.ID); got.FailingSince != nil || !got.Enabled {
		t.Fatalf("jq errors counted against the receiver: %+v", got)
	}
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Filter: ptr(`.data |`)})
	apiErr(t, err, 422, "unprocessable")
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{PayloadFormat: ptr("flat")})
	apiErr(t, err, 400, "invalid_request")
	var body json.RawMessage
	ds, _ := c.ListDeliveries(ctx, ep.ID, "succeeded", "", 1)
	if err := c.Do(ctx, "GET", "/v1/deliveries/"+ds.Data[0].ID+"/payload", nil, &body); err != nil || !strings.Contains(string(body), `"order":"o1"`) {
		t.Fatalf("payload route shows %s, %v", body, err)
	}
}
