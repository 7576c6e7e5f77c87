package server_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/signature"
)

// countingTransport counts the requests the dispatcher tries to make and
// makes none.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no request expected")
}

// pullEndpoint creates a pull endpoint and returns it with its secret.
func pullEndpoint(t *testing.T, c *client.Client, types ...string) *client.EndpointWithSecret {
	t.Helper()
	ep, err := c.CreateEndpoint(context.Background(), client.EndpointInput{Type: ptr("pull"), EventTypes: &types})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Type != "pull" || ep.URL != "" || ep.Secret == "" {
		t.Fatalf("pull endpoint = %+v", ep)
	}
	return ep
}

// A pull endpoint has no address and none of the settings of requests;
// its type cannot change and it cannot be sent a test event.
func TestPullEndpointFields(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	types := []string{"*"}
	apiErr(t, func() error {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{Type: ptr("pull"), URL: ptr("http://127.0.0.1:1/x"), EventTypes: &types})
		return err
	}(), 400, "invalid_request")
	apiErr(t, func() error {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{Type: ptr("pull"), Headers: &map[string]string{"X-A": "b"}, EventTypes: &types})
		return err
	}(), 400, "invalid_request")
	apiErr(t, func() error {
		_, err := c.CreateEndpoint(ctx, client.EndpointInput{Type: ptr("pigeon"), EventTypes: &types})
		return err
	}(), 400, "invalid_request")
	ep := pullEndpoint(t, c, "*")
	_, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Type: ptr("http")})
	apiErr(t, err, 400, "invalid_request")
	_, err = c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{URL: ptr("http://127.0.0.1:1/x")})
	apiErr(t, err, 400, "invalid_request")
	if _, err := c.UpdateEndpoint(ctx, ep.ID, client.EndpointInput{Description: ptr("laptop")}); err != nil {
		t.Fatal(err)
	}
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/"+ep.ID+"/test", nil, nil), 400, "invalid_request")
}

// The dispatcher never sends a pull endpoint's deliveries: they succeed
// without contact (so no backlog is left), and the feed holds them
// signed with the endpoint's secret.
func TestPullEndpointNeverSent(t *testing.T) {
	t.Parallel()
	cfg := fast()
	tr := &countingTransport{}
	cfg.Delivery.Transport = tr
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	ep := pullEndpoint(t, c, "visit.*")
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, publish(t, c, "visit.created", map[string]int{"n": i}, ""))
	}
	e.eventually(func() bool {
		p, err := c.ListDeliveries(ctx, ep.ID, "", "", 10)
		if err != nil || len(p.Data) != len(ids) {
			return false
		}
		for _, d := range p.Data {
			if d.Status != client.StatusSucceeded {
				return false
			}
		}
		return true
	})
	if b, err := e.node.Store.Backlog(ctx); err != nil || b.Pending != 0 {
		t.Fatalf("backlog = %+v, %v", b, err)
	}
	var f *client.Feed
	e.eventually(func() bool {
		var err error
		f, err = c.FeedWait(ctx, ep.ID, "", 0, time.Second)
		return err == nil && len(f.Data) == len(ids)
	})
	for i, it := range f.Data {
		h := it.Headers
		if it.EventID != ids[i] {
			t.Fatalf("item %d is %s, want %s", i, it.EventID, ids[i])
		}
		if err := signature.Verify(ep.Secret, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], []byte(it.Body), time.Now(), time.Minute); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if n := tr.n.Load(); n != 0 {
		t.Fatalf("the dispatcher made %d requests for a pull endpoint", n)
	}
}

// A long poll of the feed answers as soon as an item settles, not at the
// end of its wait; with nothing to give it answers an empty page when the
// wait ends, or at once when the server shuts down.
func TestFeedLongPoll(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	ep := pullEndpoint(t, c, "*")
	began := time.Now()
	f, err := c.FeedWait(ctx, ep.ID, "", 0, 500*time.Millisecond)
	if took := time.Since(began); err != nil || len(f.Data) != 0 || f.NextCursor != "" || took < 500*time.Millisecond || took > 5*time.Second {
		t.Fatalf("empty long poll = %+v, %v after %v", f, err, took)
	}
	type answer struct {
		f    *client.Feed
		err  error
		took time.Duration
	}
	got := make(chan answer, 1)
	began = time.Now()
	go func() {
		f, err := c.FeedWait(ctx, ep.ID, "", 0, 20*time.Second)
		got <- answer{f, err, time.Since(began)}
	}()
	time.Sleep(300 * time.Millisecond)
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	a := <-got
	if a.err != nil || len(a.f.Data) != 1 || a.f.Data[0].EventID != id || a.took > 5*time.Second {
		t.Fatalf("long poll = %+v, %v after %v", a.f, a.err, a.took)
	}
	cursor := a.f.NextCursor
	go func() {
		f, err := c.FeedWait(ctx, ep.ID, cursor, 0, 30*time.Second)
		got <- answer{f, err, 0}
	}()
	time.Sleep(300 * time.Millisecond)
	began = time.Now()
	e.node.Close()
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("closing the node waited %v for a long poll", took)
	}
	if a := <-got; a.err != nil || len(a.f.Data) != 0 || a.f.NextCursor != cursor {
		t.Fatalf("long poll at shutdown = %+v, %v", a.f, a.err)
	}
}

// The wait of a long poll is a duration (or whole seconds) from 0 to
// 30 s; anything else is a 400 before anything waits.
func TestFeedWaitBounds(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	ep := pullEndpoint(t, c, "*")
	for _, bad := range []string{"31s", "1h", "-1s", "-1", "abc", "1.5", "30000000000000000000s"} {
		began := time.Now()
		apiErr(t, c.Do(ctx, "GET", "/v1/endpoints/"+ep.ID+"/feed?wait="+bad, nil, nil), 400, "invalid_request")
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("wait=%s refused after %v", bad, took)
		}
	}
	for _, good := range []string{"0", "0s", "1", "100ms", "30s"} {
		ctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		err := c.Do(ctx, "GET", "/v1/endpoints/"+ep.ID+"/feed?wait="+good, nil, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait=%s: %v", good, err)
		}
	}
}
