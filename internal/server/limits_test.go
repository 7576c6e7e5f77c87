package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/slotwire/slotwire/client"
)

// A tenant has at most --max-endpoints-per-tenant endpoints, and publishes
// at most --tenant-events-per-second (issue 9.5): one publish cannot fan out
// to an unbounded number of receivers, nor one tenant flood the node.
func TestTenantLimits(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.MaxEndpointsPerTenant = 3
	cfg.TenantEventsPerSecond = 5
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		endpoint(t, c, fmt.Sprintf("https://93.184.216.34/hook%d", i), "*")
	}
	_, err := c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://93.184.216.34/more"), EventTypes: &[]string{"*"}})
	apiErr(t, err, http.StatusForbidden, "endpoint_limit")
	if !strings.Contains(err.Error(), "(3)") {
		t.Fatalf("message does not name the limit: %v", err)
	}
	// Another tenant is not affected by the first one's count or rate.
	other := e.tenant("Other")
	endpoint(t, other, "https://93.184.216.34/o", "*")

	for i := 0; i < 5; i++ {
		publish(t, c, "a.b", map[string]any{"i": i}, "")
	}
	apiErr(t, c.Do(ctx, "POST", "/v1/events", []byte(`{"type":"a.b","data":{}}`), nil), http.StatusTooManyRequests, "rate_limited")
	publish(t, other, "a.b", map[string]any{"i": 0}, "")
	// A batch larger than a second's worth is refused whole.
	apiErr(t, other.Do(ctx, "POST", "/v1/events/batch", []byte(`{"events":[`+strings.Repeat(`{"type":"a.b","data":{}},`, 5)+`{"type":"a.b","data":{}}]}`), nil),
		http.StatusTooManyRequests, "rate_limited")
}
