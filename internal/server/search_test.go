package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/signature"
)

type deliveryPage struct {
	Data []struct {
		ID        string `json:"id"`
		EventType string `json:"event_type"`
		Status    string `json:"status"`
	} `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// Paging through a tenant's deliveries while new ones arrive sees every
// delivery that existed when it began, once; filters narrow it; an
// unknown parameter is refused.
func TestDeliverySearchUnderInserts(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(nil)
	defer rc.Close()
	endpoint(t, c, rc.URL, "*")
	before := map[string]bool{}
	for i := 0; i < 120; i++ {
		publish(t, c, "visit.created", map[string]int{"n": i}, "")
	}
	var first deliveryPage
	if err := c.Do(ctx, "GET", "/v1/deliveries?limit=1000", nil, &first); err != nil || len(first.Data) != 120 {
		t.Fatalf("%d deliveries, %v", len(first.Data), err)
	}
	for _, d := range first.Data {
		before[d.ID] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // new deliveries keep arriving while paging
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				c.Publish(ctx, "order.placed", map[string]int{"n": i}, "")
			}
		}
	}()
	seen := map[string]int{}
	cursor := ""
	for {
		var p deliveryPage
		if err := c.Do(ctx, "GET", "/v1/deliveries?limit=7&cursor="+cursor, nil, &p); err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Data {
			seen[d.ID]++
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	close(stop)
	wg.Wait()
	for id := range before {
		if seen[id] != 1 {
			t.Fatalf("delivery %s seen %d times while paging", id, seen[id])
		}
	}
	var visits deliveryPage
	if err := c.Do(ctx, "GET", "/v1/deliveries?event_type=visit.*&limit=1000", nil, &visits); err != nil || len(visits.Data) != 120 {
		t.Fatalf("event_type filter: %d, %v", len(visits.Data), err)
	}
	apiErr(t, c.Do(ctx, "GET", "/v1/deliveries?stauts=failed", nil, nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "GET", "/v1/deliveries?status_class=3xx", nil, nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "GET", "/v1/deliveries?since=yesterday", nil, nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "GET", "/v1/events?typ=x", nil, nil), 400, "invalid_request")
}

// Events are listed and shown with the deliveries they caused; failed
// deliveries of a window are recovered once each, and the originals count
// their replays.
func TestEventsAndRecovery(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0} // one attempt: a 500 fails at once
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	var fail sync.Map
	fail.Store("on", true)
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if v, _ := fail.Load("on"); v == true {
			w.WriteHeader(500)
		}
	})
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "visit.*")
	start := time.Now().UTC().Add(-time.Minute)
	ids := []string{publish(t, c, "visit.created", map[string]int{"n": 1}, ""), publish(t, c, "visit.updated", map[string]int{"n": 2}, "")}
	e.eventually(func() bool {
		p, _ := c.ListDeliveries(ctx, ep, "failed", "", 10)
		return p != nil && len(p.Data) == 2
	})
	var evs struct {
		Data []map[string]any `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/events?type=visit.*", nil, &evs); err != nil || len(evs.Data) != 2 || evs.Data[0]["id"] != ids[1] {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	var detail struct {
		ID         string           `json:"id"`
		Deliveries []map[string]any `json:"deliveries"`
	}
	if err := c.Do(ctx, "GET", "/v1/events/"+ids[0], nil, &detail); err != nil || len(detail.Deliveries) != 1 || detail.Deliveries[0]["status"] != "failed" {
		t.Fatalf("event detail = %+v, %v", detail, err)
	}
	if p, err := c.SearchDeliveries(ctx, client.DeliveryQuery{StatusClass: "5xx", EventType: "visit.created"}); err != nil || len(p.Data) != 1 || p.Data[0].LastStatusCode != 500 {
		t.Fatalf("5xx search = %+v, %v", p, err)
	}
	if p, err := c.ListEvents(ctx, client.EventQuery{Type: "visit.updated", Since: start}); err != nil || len(p.Data) != 1 || p.Data[0].ID != ids[1] {
		t.Fatalf("ListEvents = %+v, %v", p, err)
	}
	fail.Store("on", false)
	var res map[string]int
	body, _ := json.Marshal(map[string]any{"since": start})
	if err := c.Do(ctx, "POST", "/v1/endpoints/"+ep+"/recover", json.RawMessage(body), &res); err != nil || res["queued"] != 2 {
		t.Fatalf("recover = %v, %v", res, err)
	}
	if n, err := c.Recover(ctx, ep, start, time.Time{}); err != nil || n != 0 {
		t.Fatalf("second recover = %d, %v", n, err)
	}
	e.eventually(func() bool {
		p, _ := c.ListDeliveries(ctx, ep, "succeeded", "", 10)
		return p != nil && len(p.Data) == 2
	})
	var orig map[string]any
	if err := c.Do(ctx, "GET", "/v1/deliveries/"+detail.Deliveries[0]["id"].(string), nil, &orig); err != nil || orig["replay_count"] != 1.0 {
		t.Fatalf("original = %v, %v", orig, err)
	}
	apiErr(t, c.Do(ctx, "POST", "/v1/endpoints/"+ep+"/recover", json.RawMessage(`{}`), nil), 400, "invalid_request")
}

type feedItem struct {
	EventID string            `json:"event_id"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type feedPage struct {
	Data       []feedItem `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// A receiver that missed its deliveries pulls them in order, each with the
// exact body and a signature its Standard Webhooks check accepts, and
// resumes from its cursor; replays do not appear twice.
func TestEndpointFeed(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0}
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "*")
	var sec struct {
		Secret string `json:"secret"`
	}
	if err := c.Do(ctx, "GET", "/v1/endpoints/"+ep+"/secret", nil, &sec); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, publish(t, c, "visit.created", map[string]int{"n": i}, ""))
	}
	var first feedPage
	e.eventually(func() bool { // the newest deliveries settle for 2 s first
		first = feedPage{}
		return c.Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed?limit=2", nil, &first) == nil && len(first.Data) == 2
	})
	p, _ := c.ListDeliveries(ctx, ep, "", "", 10)
	if _, err := c.Replay(ctx, p.Data[0].ID); err != nil {
		t.Fatal(err)
	}
	rest, err := c.Feed(ctx, ep, first.NextCursor, 0)
	if err != nil || len(rest.Data) != 1 {
		t.Fatalf("rest = %+v, %v", rest, err)
	}
	got := first.Data
	for _, it := range rest.Data {
		got = append(got, feedItem{it.EventID, it.Headers, it.Body})
	}
	for i, it := range got {
		if it.EventID != ids[i] {
			t.Fatalf("item %d is %s, want %s", i, it.EventID, ids[i])
		}
		h := it.Headers
		if err := signature.Verify(sec.Secret, h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], []byte(it.Body), time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	var none feedPage
	if err := c.Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed?after="+rest.NextCursor, nil, &none); err != nil || len(none.Data) != 0 || none.NextCursor != rest.NextCursor {
		t.Fatalf("caught up = %+v, %v", none, err)
	}
	// A feed token reads this endpoint's feed and nothing else; a new
	// token or DELETE ends the old one.
	other := endpoint(t, c, rc.URL+"/other", "visit.*")
	tok, err := c.CreateFeedToken(ctx, ep)
	if err != nil || !strings.HasPrefix(tok, "ft_") {
		t.Fatalf("feed token = %q, %v", tok, err)
	}
	reader := client.New(e.node.URL(), tok)
	if f, err := reader.Feed(ctx, ep, "", 0); err != nil || len(f.Data) != 3 {
		t.Fatalf("feed with its token = %+v, %v", f, err)
	}
	apiErr(t, reader.Do(ctx, "GET", "/v1/endpoints/"+other+"/feed", nil, nil), 401, "unauthorized")
	apiErr(t, reader.Do(ctx, "GET", "/v1/endpoints/"+ep, nil, nil), 401, "unauthorized")
	apiErr(t, reader.Do(ctx, "GET", "/v1/endpoints/"+ep+"/deliveries", nil, nil), 401, "unauthorized")
	tok2, _ := c.CreateFeedToken(ctx, ep)
	apiErr(t, reader.Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed", nil, nil), 401, "unauthorized")
	if _, err := client.New(e.node.URL(), tok2).Feed(ctx, ep, "", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "DELETE", "/v1/endpoints/"+ep+"/feed-token", nil, nil); err != nil {
		t.Fatal(err)
	}
	apiErr(t, client.New(e.node.URL(), tok2).Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed", nil, nil), 401, "unauthorized")
	apiErr(t, c.Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed?limit=0", nil, nil), 400, "invalid_request")
	apiErr(t, c.Do(ctx, "GET", "/v1/endpoints/"+ep+"/feed?cursor=x", nil, nil), 400, "invalid_request")
}

// The feed's cursor holds across a restart: a receiver that read part of
// the feed from one process reads the rest, in order, from the next one
// on the same database.
func TestFeedAcrossRestart(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0}
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr, cfg.AdminToken, cfg.Migrate = "127.0.0.1:0", adminToken, true
	ctx := context.Background()
	first, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ten, err := client.New(first.URL(), adminToken).CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(first.URL(), ten.APIKey)
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	defer rc.Close()
	ep := endpoint(t, c, rc.URL, "*")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, publish(t, c, "visit.created", map[string]int{"n": i}, ""))
	}
	var page *client.Feed
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if page, err = c.Feed(ctx, ep, "", 2); err == nil && len(page.Data) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(page.Data) != 2 {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	first.Close()
	second, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	c = client.New(second.URL(), ten.APIKey)
	ids = append(ids, publish(t, c, "visit.created", map[string]int{"n": 3}, ""))
	got := []string{page.Data[0].EventID, page.Data[1].EventID}
	cursor := page.NextCursor
	for deadline := time.Now().Add(10 * time.Second); len(got) < 4 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		rest, err := c.Feed(ctx, ep, cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range rest.Data {
			got = append(got, it.EventID)
		}
		cursor = rest.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("feed across a restart = %v, want %v", got, ids)
	}
}
