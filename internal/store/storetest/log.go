package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

func testDeliveryLog(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, newEvent(ten, fmt.Sprintf("t.%d", i), "", t0))
	}
	ingest(t, s, t0, evs...)
	jobs := claim(t, s, ep.ID, "n", t0, 2)
	_, err := complete(s, []store.Outcome{outcome(jobs[0], "n", slotwire.StatusSucceeded, t0, 200), outcome(jobs[1], "n", slotwire.StatusFailed, t0, 400)}, t0, 0)
	must(t, err)
	all, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID})
	must(t, err)
	if len(all) != 5 || all[0].EventID != evs[4].ID || all[4].EventID != evs[0].ID {
		t.Fatalf("not newest first")
	}
	page, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID, Page: store.Page{Limit: 2, Before: all[1].ID}})
	must(t, err)
	if len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
		t.Fatal("cursor page wrong")
	}
	for status, want := range map[string]int{slotwire.StatusSucceeded: 1, slotwire.StatusFailed: 1, slotwire.StatusPending: 3} {
		ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID, Status: status})
		must(t, err)
		if len(ds) != want {
			t.Errorf("status %s: %d, want %d", status, len(ds), want)
		}
	}
	ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID, EventID: evs[2].ID})
	must(t, err)
	if len(ds) != 1 {
		t.Fatal("event filter")
	}
	p, err := s.DeliveryPayload(ctx(), ten.ID, jobs[0].Delivery.ID)
	must(t, err)
	if string(p) != string(evs[0].Payload) {
		t.Fatalf("payload = %s", p)
	}
	r, err := s.Replay(ctx(), ten.ID, jobs[1].Delivery.ID, slotwire.NewID(slotwire.PrefixDelivery), t0.Add(time.Hour))
	must(t, err)
	if r.ReplayOf != jobs[1].Delivery.ID || r.EventID != evs[1].ID || r.Status != slotwire.StatusPending || r.Attempts != 0 || r.EndpointID != ep.ID {
		t.Fatalf("replay = %+v", r)
	}
	j := claim(t, s, ep.ID, "n", t0.Add(time.Hour), 10)
	found := false
	for _, x := range j {
		if x.Delivery.ID == r.ID && x.Delivery.ReplayOf == jobs[1].Delivery.ID && string(x.Payload) == string(evs[1].Payload) {
			found = true
		}
	}
	if !found {
		t.Fatal("replay not claimable")
	}
	_, err = s.GetDelivery(ctx(), ten.ID, "dlv_nope")
	notFound(t, err)
}

// Search across a tenant's deliveries and events, replays counted on the
// original, and recovery of failed deliveries in a window.
func testDeliverySearch(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	a, b := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "appointment.*")
	newEndpoint(t, s, other, "*")
	e1, e2, e3 := newEvent(ten, "appointment.created", "", t0), newEvent(ten, "invoice.paid", "", t0.Add(time.Hour)),
		newEvent(ten, "appointment.cancelled", "", t0.Add(2*time.Hour))
	ingest(t, s, t0, e1)
	ingest(t, s, t0.Add(time.Hour), e2)
	ingest(t, s, t0.Add(2*time.Hour), e3)
	ingest(t, s, t0, newEvent(other, "appointment.created", "", t0))
	count := func(f store.DeliveryFilter) int {
		t.Helper()
		ds, err := s.ListDeliveries(ctx(), ten.ID, f)
		must(t, err)
		return len(ds)
	}
	if n := count(store.DeliveryFilter{}); n != 5 {
		t.Fatalf("tenant-wide: %d deliveries, want 5 (3 to a, 2 to b; none of the other tenant)", n)
	}
	if n := count(store.DeliveryFilter{EventType: "appointment.*"}); n != 4 {
		t.Fatalf("appointment.*: %d, want 4", n)
	}
	if n := count(store.DeliveryFilter{EventType: "invoice.paid", EndpointID: a.ID}); n != 1 {
		t.Fatalf("invoice.paid to a: %d", n)
	}
	if n := count(store.DeliveryFilter{Since: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}); n != 1 {
		t.Fatalf("window: %d, want 1", n)
	}
	// Outcomes: a 500 to retry, a 404 failed, a network failure.
	jobs := claim(t, s, a.ID, "n", t0.Add(3*time.Hour), 10)
	retry := outcome(jobs[0], "n", slotwire.StatusPending, t0, 500)
	retry.NextAttemptAt = t0.Add(4 * time.Hour)
	network := outcome(jobs[2], "n", slotwire.StatusFailed, t0, 0)
	_, err := complete(s, []store.Outcome{retry, outcome(jobs[1], "n", slotwire.StatusFailed, t0, 404), network}, t0, 0)
	must(t, err)
	for f, want := range map[store.DeliveryFilter]int{
		{Status: store.StatusRetrying}: 1, {Status: slotwire.StatusPending}: 3, {StatusClass: "5xx"}: 1,
		{StatusClass: "4xx"}: 1, {StatusClass: "network"}: 1, {StatusClass: "2xx"}: 0, {Status: slotwire.StatusFailed}: 2,
	} {
		if n := count(f); n != want {
			t.Errorf("%+v: %d, want %d", f, n, want)
		}
	}
	evs, err := s.ListEvents(ctx(), ten.ID, store.EventFilter{Type: "appointment.*"})
	must(t, err)
	if len(evs) != 2 || evs[0].ID != e3.ID || evs[1].ID != e1.ID {
		t.Fatalf("events = %+v", evs)
	}
	if evs, _ := s.ListEvents(ctx(), ten.ID, store.EventFilter{Since: t0.Add(time.Hour)}); len(evs) != 2 {
		t.Fatalf("events since: %d", len(evs))
	}
	// Recovery replays each failed delivery of the window once, in order.
	n, err := s.Recover(ctx(), ten.ID, a.ID, t0, t0.Add(3*time.Hour), t0.Add(5*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("recover = %d, %v", n, err)
	}
	if n, _ := s.Recover(ctx(), ten.ID, a.ID, t0, t0.Add(3*time.Hour), t0.Add(5*time.Hour)); n != 0 {
		t.Fatalf("a second recovery queued %d again", n)
	}
	d, err := s.GetDelivery(ctx(), ten.ID, jobs[1].Delivery.ID)
	if err != nil || d.ReplayCount != 1 {
		t.Fatalf("original = %+v, %v", d, err)
	}
	// The feed: a's three deliveries once each, oldest first, without the
	// two replays; paged by cursor; the settle time holds back newer ones.
	feed, err := s.Feed(ctx(), ten.ID, a.ID, "", t0.Add(6*time.Hour), 2)
	must(t, err)
	if len(feed) != 2 || feed[0].ID >= feed[1].ID || feed[0].ReplayOf != "" {
		t.Fatalf("feed page 1 = %+v", feed)
	}
	more, err := s.Feed(ctx(), ten.ID, a.ID, feed[1].ID, t0.Add(6*time.Hour), 10)
	must(t, err)
	if len(more) != 1 || more[0].ReplayOf != "" {
		t.Fatalf("feed page 2 = %+v", more)
	}
	if early, _ := s.Feed(ctx(), ten.ID, a.ID, "", t0.Add(time.Minute), 10); len(early) != 1 {
		t.Fatalf("feed settled before t0+1m: %d, want 1", len(early))
	}
	_ = b
}

// testFeedTokens: a feed token names one endpoint, only within its tenant;
// a new one replaces it; "" removes it.
func testFeedTokens(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	a := newEndpoint(t, s, ten, "*")
	must(t, s.SetFeedToken(ctx(), ten.ID, a.ID, "h1"))
	if tid, eid, err := s.FeedTokenEndpoint(ctx(), "h1"); err != nil || tid != ten.ID || eid != a.ID {
		t.Fatalf("h1 = %s %s %v", tid, eid, err)
	}
	if err := s.SetFeedToken(ctx(), other.ID, a.ID, "h2"); !errors.Is(err, slotwire.ErrNotFound) {
		t.Fatalf("another tenant's endpoint: %v", err)
	}
	must(t, s.SetFeedToken(ctx(), ten.ID, a.ID, "h3"))
	if _, _, err := s.FeedTokenEndpoint(ctx(), "h1"); !errors.Is(err, slotwire.ErrNotFound) {
		t.Fatalf("replaced token still found: %v", err)
	}
	must(t, s.SetFeedToken(ctx(), ten.ID, a.ID, ""))
	if _, _, err := s.FeedTokenEndpoint(ctx(), "h3"); !errors.Is(err, slotwire.ErrNotFound) {
		t.Fatalf("removed token still found: %v", err)
	}
}
