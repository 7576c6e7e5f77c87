package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
)

func testIngestFanOut(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	all := newEndpoint(t, s, ten, "*")
	appt := newEndpoint(t, s, ten, "appointment.*")
	exact := newEndpoint(t, s, ten, "appointment.cancelled")
	off := newEndpoint(t, s, ten, "*")
	off.Enabled = false
	must(t, s.UpdateEndpoint(ctx(), off))
	ev := newEvent(ten, "appointment.created", "", t0)
	items := ingest(t, s, t0, ev, newEvent(ten, "customer.created", "", t0))
	if items[0].Deliveries != 2 || items[1].Deliveries != 1 {
		t.Fatalf("deliveries = %d, %d; want 2, 1", items[0].Deliveries, items[1].Deliveries)
	}
	got, err := s.GetEvent(ctx(), ten.ID, ev.ID)
	must(t, err)
	if got.Type != "appointment.created" || string(got.Data) != `{"n":1}` || string(got.Payload) != string(ev.Payload) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("event = %+v", got)
	}
	for ep, want := range map[string]int{all.ID: 2, appt.ID: 1, exact.ID: 0, off.ID: 0} {
		ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep})
		must(t, err)
		if len(ds) != want {
			t.Errorf("endpoint %s: %d deliveries, want %d", ep, len(ds), want)
		}
		for _, d := range ds {
			if d.Status != slotwire.StatusPending || d.Attempts != 0 || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(t0) {
				t.Errorf("new delivery = %+v", d)
			}
		}
	}
	due, err := s.DueEndpoints(ctx())
	must(t, err)
	if len(due) != 2 {
		t.Fatalf("DueEndpoints = %+v", due)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	newEndpoint(t, s, ten, "*")
	first := newEvent(ten, "a.b", "booking-42", t0)
	items := ingest(t, s, t0, first)
	if items[0].Duplicate || items[0].Deliveries != 1 {
		t.Fatalf("first = %+v", items[0])
	}
	// Same key later, and twice in one batch.
	again, again2 := newEvent(ten, "a.b", "booking-42", t0), newEvent(ten, "a.b", "booking-42", t0)
	items = ingest(t, s, t0.Add(23*time.Hour), again, again2)
	for _, it := range items {
		if !it.Duplicate || it.Event.ID != first.ID || it.Deliveries != 0 {
			t.Fatalf("repeat = %+v (id %s, want %s)", it, it.Event.ID, first.ID)
		}
	}
	// Same key in one new batch: the second is a duplicate of the first.
	x1, x2 := newEvent(ten, "a.b", "k2", t0), newEvent(ten, "a.b", "k2", t0)
	items = ingest(t, s, t0, x1, x2)
	if items[0].Duplicate || !items[1].Duplicate || items[1].Event.ID != x1.ID {
		t.Fatalf("in-batch duplicate not detected: %+v %+v", items[0], items[1])
	}
	// Another tenant may use the same key.
	items = ingest(t, s, t0, newEvent(other, "a.b", "booking-42", t0))
	if items[0].Duplicate {
		t.Fatal("key shared across tenants")
	}
	// After the window the key is free again.
	late := newEvent(ten, "a.b", "booking-42", t0.Add(25*time.Hour))
	items = ingest(t, s, t0.Add(25*time.Hour), late)
	if items[0].Duplicate || items[0].Event.ID != late.ID || items[0].Deliveries != 1 {
		t.Fatalf("after window = %+v", items[0])
	}
}

func testIngestTake(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	a, b := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*")
	ev := newEvent(ten, "a.b", "", t0)
	batch := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour, Owner: "node-1", LeaseUntil: t0.Add(time.Minute),
		Items: []*store.IngestItem{{Event: ev, Targets: []store.Target{{Endpoint: a, Leased: true}, {Endpoint: b}}}}}
	must(t, s.Ingest(ctx(), batch))
	it := batch.Items[0]
	if it.Deliveries != 2 || len(it.Jobs) != 1 {
		t.Fatalf("item = %+v", it)
	}
	j := it.Jobs[0]
	if j.Endpoint.ID != a.ID || j.Endpoint.Secret == "" || j.Endpoint.URL == "" || string(j.Payload) != string(ev.Payload) ||
		j.Delivery.ID == "" || j.Delivery.EventID != ev.ID || j.Delivery.Status != slotwire.StatusInflight {
		t.Fatalf("job = %+v", j)
	}
	// The taken delivery is not claimable; the other is.
	jobs, err := s.Claim(ctx(), store.ClaimRequest{EndpointID: a.ID, Owner: "node-2", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(jobs) != 0 {
		t.Fatal("taken delivery claimed again")
	}
	jobs, err = s.Claim(ctx(), store.ClaimRequest{EndpointID: b.ID, Owner: "node-2", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(jobs) != 1 {
		t.Fatal("pending delivery not claimable")
	}
}

// testIngestStaleTarget: a target whose endpoint was deleted or disabled
// between the fan-out and the transaction gets no delivery, and the rest
// of the batch is stored.
func testIngestStaleTarget(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	gone, off, ok := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*")
	ev := newEvent(ten, "a.b", "", t0)
	item := &store.IngestItem{Event: ev, Targets: []store.Target{{Endpoint: gone}, {Endpoint: off, Leased: true}, {Endpoint: ok}}}
	must(t, s.DeleteEndpoint(ctx(), ten.ID, gone.ID))
	off.Enabled = false
	must(t, s.UpdateEndpoint(ctx(), off))
	must(t, s.Ingest(ctx(), &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour, Owner: "n", LeaseUntil: t0.Add(time.Minute),
		Items: []*store.IngestItem{item}}))
	if item.Deliveries != 1 || len(item.Jobs) != 0 {
		t.Fatalf("item = %+v", item)
	}
	ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ok.ID})
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("deliveries to the live endpoint = %d", len(ds))
	}
}

// The endpoints version changes with every change of a tenant's endpoints
// that matters to delivery, not with health bookkeeping; an ingest whose
// fan-out used an older version stores nothing and says so (ErrStale).
func testEndpointsVersion(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	version := func() int64 {
		v, err := s.EndpointsVersion(ctx(), ten.ID)
		must(t, err)
		return v
	}
	v0 := version()
	ep := newEndpoint(t, s, ten, "*")
	v1 := version()
	if v1 == v0 {
		t.Fatal("creating an endpoint did not change the version")
	}
	ep.URL = "https://example.com/other"
	must(t, s.UpdateEndpoint(ctx(), ep))
	v2 := version()
	if v2 == v1 {
		t.Fatal("updating an endpoint did not change the version")
	}
	if ov, _ := s.EndpointsVersion(ctx(), other.ID); ov != 0 {
		t.Fatalf("another tenant's version moved to %d", ov)
	}
	// A failed attempt only starts the endpoint's failing run: no change.
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 10)
	o := outcome(j[0], "n", slotwire.StatusPending, t0, 500)
	o.NextAttemptAt = t0.Add(time.Minute)
	_, err := complete(s, []store.Outcome{o}, t0, time.Hour)
	must(t, err)
	if version() != v2 {
		t.Fatal("health bookkeeping changed the version")
	}

	stale := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour, Versions: map[string]int64{ten.ID: v1}}
	stale.Items = []*store.IngestItem{{Event: newEvent(ten, "a.b", "", t0), Targets: []store.Target{{Endpoint: ep}}}}
	if err := s.Ingest(ctx(), stale); !errors.Is(err, store.ErrStale) {
		t.Fatalf("ingest with a stale version: %v, want ErrStale", err)
	}
	if _, err := s.GetEvent(ctx(), ten.ID, stale.Items[0].Event.ID); !errors.Is(err, slotwire.ErrNotFound) {
		t.Fatalf("a stale batch stored its event: %v", err)
	}
	stale.Versions[ten.ID] = v2
	must(t, s.Ingest(ctx(), stale))
	if stale.Items[0].Deliveries != 1 {
		t.Fatalf("current version: %d deliveries, want 1", stale.Items[0].Deliveries)
	}
	must(t, s.DeleteEndpoint(ctx(), ten.ID, ep.ID))
	if version() == v2 {
		t.Fatal("deleting an endpoint did not change the version")
	}
}

// A batch published with an API key revoked meanwhile stores nothing and
// names the key (RevokedKeysError), duplicates included.
func testIngestRevokedKey(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme") // its key's hash is "hash-"+ten.ID
	newEndpoint(t, s, ten, "*")
	ok := newEvent(ten, "a.b", "k1", t0)
	b := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour,
		Items: []*store.IngestItem{{Event: ok, KeyHash: "hash-" + ten.ID}}}
	must(t, fanout.Fill(ctx(), s, b.Items))
	must(t, s.Ingest(ctx(), b))
	for _, e := range []*slotwire.Event{newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "k1", t0)} {
		gone := &store.IngestBatch{Now: t0, IdempotencyWindow: time.Hour,
			Items: []*store.IngestItem{{Event: e, KeyHash: "revoked-hash"}, {Event: newEvent(ten, "a.b", "", t0), KeyHash: "hash-" + ten.ID}}}
		must(t, fanout.Fill(ctx(), s, gone.Items))
		err := s.Ingest(ctx(), gone)
		var rk *store.RevokedKeysError
		if !errors.As(err, &rk) || len(rk.Hashes) != 1 || rk.Hashes[0] != "revoked-hash" || !errors.Is(err, store.ErrKeyRevoked) {
			t.Fatalf("ingest with a revoked key: %v", err)
		}
		if _, err := s.GetEvent(ctx(), ten.ID, gone.Items[1].Event.ID); !errors.Is(err, slotwire.ErrNotFound) {
			t.Fatal("a batch with a revoked key stored an event")
		}
	}
}
