package storetest

import (
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
