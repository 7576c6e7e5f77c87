package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// The fan-out of a publish comes from a cache of the tenant's endpoints;
// every change to them shows in the next publish: a new endpoint gets it,
// a new URL is used, an unsubscribed type is no longer sent, a disabled
// endpoint gets nothing.
func TestEndpointChangesShowInTheNextPublish(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	a, b, moved := receiver.New(nil), receiver.New(nil), receiver.New(nil)
	defer a.Close()
	defer b.Close()
	defer moved.Close()
	epA := endpoint(t, c, a.URL, "*")
	id1 := publish(t, c, "visit.created", map[string]int{"n": 1}, "") // warms the cache
	epB := endpoint(t, c, b.URL, "visit.*")
	id2 := publish(t, c, "visit.created", map[string]int{"n": 2}, "")
	if !b.WaitFor(10*time.Second, func() bool { return b.IDs()[id2] == 1 }) {
		t.Fatal("the endpoint created after the first publish did not get the second")
	}
	if b.IDs()[id1] != 0 {
		t.Fatal("the new endpoint got an event published before it existed")
	}
	if _, err := c.UpdateEndpoint(ctx, epA, client.EndpointInput{URL: ptr(moved.URL)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateEndpoint(ctx, epB, client.EndpointInput{EventTypes: &[]string{"other.*"}}); err != nil {
		t.Fatal(err)
	}
	id3 := publish(t, c, "visit.created", map[string]int{"n": 3}, "")
	if !moved.WaitFor(10*time.Second, func() bool { return moved.IDs()[id3] == 1 }) {
		t.Fatal("the event did not go to the endpoint's new URL")
	}
	if _, err := c.UpdateEndpoint(ctx, epA, client.EndpointInput{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	id4 := publish(t, c, "visit.created", map[string]int{"n": 4}, "")
	time.Sleep(200 * time.Millisecond)
	if a.IDs()[id3] != 0 || b.IDs()[id3] != 0 || moved.IDs()[id4] != 0 || b.IDs()[id4] != 0 {
		t.Fatalf("sent where it no longer belongs: old URL %v, unsubscribed %v, disabled %v", a.IDs()[id3], b.IDs(), moved.IDs()[id4])
	}
}
