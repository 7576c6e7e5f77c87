package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// testRetention: archiving goes oldest first in bounded batches, deletes
// bodies and headers but keeps ids, times, statuses and codes, fails a
// delivery still waiting as expired, stops at one in flight, archives an
// event once its deliveries are (or when it had none); archived payloads
// and replays answer archived; purging deletes archived rows and their
// events, and nothing newer.
func testRetention(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "a.*")
	items := ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0),
		newEvent(ten, "a.b", "", t0), newEvent(ten, "z.z", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 10)
	retry := outcome(j[2], "n", slotwire.StatusPending, t0, 500)
	retry.NextAttemptAt = t0.Add(time.Hour)
	_, err := complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200),
		outcome(j[1], "n", slotwire.StatusFailed, t0, 500), retry}, t0, 0) // j[3] stays in flight
	must(t, err)
	fresh := ingest(t, s, t0.Add(2*time.Hour), newEvent(ten, "a.b", "", t0.Add(2*time.Hour)))
	cut, now := t0.Add(time.Hour), t0.Add(time.Hour)
	r1, err := s.Archive(ctx(), cut, now, 2)
	must(t, err)
	r2, err := s.Archive(ctx(), cut, now, 2)
	must(t, err)
	if r1.Deliveries != 2 || !r1.More || r2.Deliveries != 1 || r2.Expired != 1 {
		t.Fatalf("archive passes = %+v, %+v", r1, r2)
	}
	checkArchived(t, s, ten, j)
	// The events' pass goes on where it stopped (the one without deliveries).
	r, err := s.Archive(ctx(), cut, now, 10)
	if err != nil || r.Deliveries != 0 || r.Events != 1 || r.More {
		t.Fatalf("last pass = %+v, %v", r, err)
	}
	for i, want := range []bool{true, true, true, false, true} { // the fourth waits for its delivery in flight
		e, err := s.GetEvent(ctx(), ten.ID, items[i].Event.ID)
		if err != nil || (e.ArchivedAt != nil) != want || (want && len(e.Payload)+len(e.Data) != 0) {
			t.Fatalf("event %d = %+v, %v", i, e, err)
		}
	}
	// Once it finishes, the next pass archives it and its event.
	_, err = complete(s, []store.Outcome{outcome(j[3], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	r3, err := s.Archive(ctx(), cut, now, 10)
	must(t, err)
	if e, _ := s.GetEvent(ctx(), ten.ID, items[3].Event.ID); r3.Deliveries != 1 || r3.Events != 1 || e.ArchivedAt == nil {
		t.Fatalf("third pass = %+v, event %+v", r3, e)
	}
	checkPurge(t, s, ten, j, items, fresh[0].Event.ID, cut)
}

func checkArchived(t *testing.T, s store.Store, ten *slotwire.Tenant, j []*store.Job) {
	t.Helper()
	for i, want := range []string{slotwire.StatusSucceeded, slotwire.StatusFailed, slotwire.StatusFailed} {
		d, err := s.GetDelivery(ctx(), ten.ID, j[i].Delivery.ID)
		if err != nil || d.ArchivedAt == nil || d.Status != want || d.LastStatusCode == 0 {
			t.Fatalf("delivery %d = %+v, %v", i, d, err)
		}
		atts, err := s.ListAttempts(ctx(), ten.ID, d.ID)
		if err != nil || len(atts) != 1 || atts[0].StatusCode == 0 || atts[0].ResponseBody != "" ||
			atts[0].RequestHeaders != "" || atts[0].ResponseHeaders != "" {
			t.Fatalf("attempts of %d = %+v, %v", i, atts, err)
		}
		if _, err := s.DeliveryPayload(ctx(), ten.ID, d.ID); slotwire.ErrorCode(err) != slotwire.ECodeArchived {
			t.Fatalf("payload of an archived delivery: %v", err)
		}
		if _, err := s.Replay(ctx(), ten.ID, d.ID, slotwire.NewID(slotwire.PrefixDelivery), t0); slotwire.ErrorCode(err) != slotwire.ECodeArchived {
			t.Fatalf("replay of an archived delivery: %v", err)
		}
	}
	if d, _ := s.GetDelivery(ctx(), ten.ID, j[2].Delivery.ID); d.LastError != sqlstore.ExpiredError || d.NextAttemptAt != nil {
		t.Fatalf("expired delivery = %+v", d)
	}
	if d, _ := s.GetDelivery(ctx(), ten.ID, j[3].Delivery.ID); d.ArchivedAt != nil || d.Status != slotwire.StatusInflight {
		t.Fatalf("delivery in flight = %+v", d)
	}
	ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{Status: store.StatusArchived})
	if err != nil || len(ds) != 3 {
		t.Fatalf("status archived = %d, %v", len(ds), err)
	}
	// The expired delivery moved from retrying to failed in the statistics.
	b, err := s.StatsBuckets(ctx(), ten.ID, "", "h", t0)
	if err != nil || len(b) == 0 || b[0].Failed != 2 || b[0].Retrying != 0 || b[0].Succeeded != 1 {
		t.Fatalf("stats after expiry = %+v, %v", b, err)
	}
}

func checkPurge(t *testing.T, s store.Store, ten *slotwire.Tenant, j []*store.Job, items []*store.IngestItem, freshEvent string, cut time.Time) {
	t.Helper()
	p, err := s.Purge(ctx(), cut, 100)
	must(t, err)
	if p.Deliveries != 4 || p.Events != 5 {
		t.Fatalf("purge = %+v", p)
	}
	for _, jj := range j {
		if _, err := s.GetDelivery(ctx(), ten.ID, jj.Delivery.ID); !errors.Is(err, slotwire.ErrNotFound) {
			t.Fatalf("purged delivery: %v", err)
		}
	}
	for _, it := range items {
		if _, err := s.GetEvent(ctx(), ten.ID, it.Event.ID); !errors.Is(err, slotwire.ErrNotFound) {
			t.Fatalf("purged event: %v", err)
		}
	}
	if e, err := s.GetEvent(ctx(), ten.ID, freshEvent); err != nil || e.ArchivedAt != nil || len(e.Payload) == 0 {
		t.Fatalf("newer event = %+v, %v", e, err)
	}
	if p, err := s.Purge(ctx(), cut, 100); err != nil || p.Deliveries+p.Events != 0 {
		t.Fatalf("second purge = %+v, %v", p, err)
	}
	if _, err := s.Compact(ctx()); err != nil {
		t.Fatal(err)
	}
}
