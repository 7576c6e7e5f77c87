package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
)

// One tenant's hung endpoints take at most that tenant's share of the
// node's in-flight bound: another tenant's event is delivered while they
// all still hang (issue 9.1). Before tenant shares, the first tenant's
// lanes could fill the whole bound and the second tenant waited for their
// timeouts.
func TestHungTenantDoesNotHoldUpAnother(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.MaxInflight = 16
	cfg.Delivery.Timeout = time.Minute // hung requests never end within the test
	cfg.Delivery.DrainTimeout = 100 * time.Millisecond
	e := start(t, cfg)
	release := make(chan struct{})
	hung := receiver.New(func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer hung.Close()
	defer close(release)
	h := e.tenant("Hung")
	endpoint(t, h, hung.URL+"/a", "*")
	endpoint(t, h, hung.URL+"/b", "*")
	for i := 0; i < 20; i++ {
		publish(t, h, "booking.created", map[string]any{"i": i}, "")
	}
	// The hung tenant fills its share: the bound less the eighth kept for
	// the next tenant, when it is alone.
	if !hung.WaitCount(14, 10*time.Second) {
		t.Fatalf("hung receiver got %d requests, want 14", hung.Count())
	}
	time.Sleep(200 * time.Millisecond) // let it take more if it could
	if n := hung.Count(); n > 14 {
		t.Fatalf("a lone tenant has %d requests in flight, more than 14 of the bound of 16", n)
	}

	fast := receiver.New(nil)
	defer fast.Close()
	b := e.tenant("Busy")
	endpoint(t, b, fast.URL+"/hook", "*")
	publish(t, b, "booking.created", map[string]any{"n": 1}, "")
	if !fast.WaitCount(1, 10*time.Second) {
		t.Fatal("the other tenant's event waited for the hung tenant's requests")
	}
}
