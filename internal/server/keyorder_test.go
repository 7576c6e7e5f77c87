package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// publishKeyed publishes n events for each key, each key's in order from
// its own goroutine (each publish waits for the previous one's 202), the
// keys at once; the node to publish to is chosen by pick.
func publishKeyed(t *testing.T, keys []string, n int, pick func(i int) *client.Client) {
	t.Helper()
	var wg sync.WaitGroup
	for _, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; seq <= n; seq++ {
				in := client.EventInput{Type: "booking.updated", OrderingKey: key,
					Data: []byte(fmt.Sprintf(`{"key":%q,"seq":%d}`, key, seq))}
				if _, err := pick(seq).PublishEvent(context.Background(), in); err != nil {
					t.Errorf("publish %s/%d: %v", key, seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A key-ordered endpoint gets each key's deliveries one at a time in
// publish order, a failed one holding its key until its retry succeeds,
// while different keys go in parallel.
func TestKeyOrderingWithRetries(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ko := receiver.NewKeyOrder(3, 2*time.Millisecond) // every third seq fails once
	rc := receiver.New(ko.Handle)
	defer rc.Close()
	ordering := client.OrderingKey
	ep, err := c.CreateEndpoint(context.Background(), client.EndpointInput{URL: ptr(rc.URL), EventTypes: &[]string{"booking.*"},
		Ordering: &ordering, MaxConcurrency: ptr(16)})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Ordering != client.OrderingKey {
		t.Fatalf("endpoint ordering = %q", ep.Ordering)
	}
	var keys []string
	for i := 0; i < 24; i++ {
		keys = append(keys, fmt.Sprintf("apt_%02d", i))
	}
	const n = 12
	publishKeyed(t, keys, n, func(int) *client.Client { return c })
	e.eventually(func() bool { return ko.Done(keys, n) })
	if v := ko.Violations(); len(v) > 0 {
		t.Fatalf("%d ordering violations, first: %s", len(v), v[0])
	}
	if m := ko.MaxInflight(); m < 2 {
		t.Fatalf("at most %d request in flight: keys were not sent in parallel", m)
	}
	// The deliveries show their key.
	page, err := c.ListDeliveries(context.Background(), ep.ID, "", "", 1)
	if err != nil || len(page.Data) != 1 || page.Data[0].OrderingKey == "" {
		t.Fatalf("delivery does not show its ordering key: %+v, %v", page, err)
	}
}

// ordering_key is stored with the event and checked: too long or not
// printable text answers 400, alone or in a batch.
func TestPublishOrderingKey(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	a, err := c.PublishEvent(ctx, client.EventInput{Type: "visit.updated", Data: []byte(`{"n":1}`), OrderingKey: "apt_42"})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := c.GetEvent(ctx, a.ID); err != nil || ev.OrderingKey != "apt_42" {
		t.Fatalf("event = %+v, %v", ev, err)
	}
	long := strings.Repeat("k", 257)
	_, err = c.PublishEvent(ctx, client.EventInput{Type: "visit.updated", Data: []byte(`{}`), OrderingKey: long})
	apiErr(t, err, 400, "invalid_request")
	res, err := c.PublishBatch(ctx, []client.EventInput{
		{Type: "visit.updated", Data: []byte(`{}`), OrderingKey: "ok"},
		{Type: "visit.updated", Data: []byte(`{}`), OrderingKey: "tab\there"},
	})
	if err != nil || len(res) != 2 || res[0].Error != nil || res[1].Error == nil || !strings.Contains(res[1].Error.Message, "ordering_key") {
		t.Fatalf("batch = %+v, %v", res, err)
	}
	// An endpoint's ordering is checked too.
	bad := "per-key"
	_, err = c.CreateEndpoint(ctx, client.EndpointInput{URL: ptr("https://example.com/h"), EventTypes: &[]string{"*"}, Ordering: &bad})
	apiErr(t, err, 400, "invalid_request")
}
