// Package storetest is the conformance suite every store.Store driver must
// pass. A driver's test calls Run with a function that opens a fresh, empty,
// migrated store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
)

// Opener returns a fresh empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tenants", testTenants},
		{"Endpoints", testEndpoints},
		{"TenantIsolation", testTenantIsolation},
		{"IngestFanOut", testIngestFanOut},
		{"Idempotency", testIdempotency},
		{"IngestTake", testIngestTake},
		{"ClaimAndComplete", testClaimAndComplete},
		{"ClaimFIFO", testClaimFIFO},
		{"Leases", testLeases},
		{"EndpointHealth", testEndpointHealth},
		{"DeliveryLog", testDeliveryLog},
		{"DeleteEndpointCascades", testDeleteEndpoint},
		{"Slots", testSlots},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func ctx() context.Context { return context.Background() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func notFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, slotwire.ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	// The API shows "<what> not found": the message names the object, not
	// the driver.
	if msg := err.Error(); strings.HasPrefix(msg, "sqlite") || strings.HasPrefix(msg, "postgres") {
		t.Fatalf("not-found error names the driver: %q", msg)
	}
}

func newTenant(t *testing.T, s store.Store, name string) *slotwire.Tenant {
	t.Helper()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: name, Plan: "professional", CreatedAt: t0}
	key := &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "hash-" + ten.ID, Prefix: "sk_x", CreatedAt: t0}
	must(t, s.CreateTenant(ctx(), ten, key))
	return ten
}

func newEndpoint(t *testing.T, s store.Store, ten *slotwire.Tenant, types ...string) *slotwire.Endpoint {
	t.Helper()
	ep := &slotwire.Endpoint{
		ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/hook",
		EventTypes: types, Enabled: true, Headers: map[string]string{"Authorization": "Bearer x"},
		Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: t0, UpdatedAt: t0,
	}
	must(t, s.CreateEndpoint(ctx(), ep))
	return ep
}

func newEvent(ten *slotwire.Tenant, typ, key string, at time.Time) *slotwire.Event {
	e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: typ,
		Data: []byte(`{"n":1}`), IdempotencyKey: key, CreatedAt: at}
	e.Payload = e.BuildPayload()
	return e
}

func ingest(t *testing.T, s store.Store, now time.Time, events ...*slotwire.Event) []*store.IngestItem {
	t.Helper()
	b := &store.IngestBatch{Now: now, IdempotencyWindow: 24 * time.Hour}
	for _, e := range events {
		b.Items = append(b.Items, &store.IngestItem{Event: e})
	}
	must(t, fanout.Fill(ctx(), s, b.Items))
	must(t, s.Ingest(ctx(), b))
	return b.Items
}

func testTenants(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	got, err := s.GetTenant(ctx(), ten.ID)
	must(t, err)
	if got.Name != "Acme" || got.Plan != "professional" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("tenant = %+v", got)
	}
	byKey, err := s.TenantByKeyHash(ctx(), "hash-"+ten.ID)
	must(t, err)
	if byKey.ID != ten.ID {
		t.Fatalf("TenantByKeyHash = %s", byKey.ID)
	}
	_, err = s.TenantByKeyHash(ctx(), "nope")
	notFound(t, err)
	_, err = s.GetTenant(ctx(), "ten_nope")
	notFound(t, err)
	must(t, s.CreateAPIKey(ctx(), &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "second", Prefix: "sk_y", CreatedAt: t0}))
	byKey, err = s.TenantByKeyHash(ctx(), "second")
	must(t, err)
	if byKey.ID != ten.ID {
		t.Fatal("second key does not authenticate")
	}
	if err := s.CreateAPIKey(ctx(), &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "second", Prefix: "sk_y", CreatedAt: t0}); err == nil {
		t.Fatal("duplicate key hash accepted")
	}
	newTenant(t, s, "Beta")
	all, err := s.ListTenants(ctx())
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("ListTenants = %d", len(all))
	}
}

func testEndpoints(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "appointment.*", "customer.created")
	got, err := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	must(t, err)
	if got.URL != ep.URL || len(got.EventTypes) != 2 || got.Headers["Authorization"] != "Bearer x" || got.Secret != ep.Secret || !got.Enabled {
		t.Fatalf("endpoint = %+v", got)
	}
	got.Description = "ERP"
	got.Enabled = false
	got.DisabledReason = "manual"
	got.MaxConcurrency, got.Ordering, got.RateLimit = 3, slotwire.OrderingFIFO, 10
	fs := t0.Add(time.Hour)
	got.FailingSince = &fs
	got.UpdatedAt = t0.Add(time.Minute)
	must(t, s.UpdateEndpoint(ctx(), got))
	again, err := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	must(t, err)
	if again.Description != "ERP" || again.Enabled || again.DisabledReason != "manual" || again.MaxConcurrency != 3 ||
		again.Ordering != "fifo" || again.RateLimit != 10 || again.FailingSince == nil || !again.FailingSince.Equal(fs) ||
		!again.UpdatedAt.Equal(t0.Add(time.Minute)) || !again.CreatedAt.Equal(t0) {
		t.Fatalf("after update = %+v", again)
	}
	// Pagination, newest first.
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, newEndpoint(t, s, ten, "*").ID)
	}
	page, err := s.ListEndpoints(ctx(), ten.ID, store.Page{Limit: 3})
	must(t, err)
	if len(page) != 3 || page[0].ID != ids[3] || page[2].ID != ids[1] {
		t.Fatalf("page 1 wrong: %v", endpointIDs(page))
	}
	page, err = s.ListEndpoints(ctx(), ten.ID, store.Page{Limit: 3, Before: page[2].ID})
	must(t, err)
	if len(page) != 2 || page[0].ID != ids[0] || page[1].ID != ep.ID {
		t.Fatalf("page 2 wrong: %v", endpointIDs(page))
	}
	must(t, s.DeleteEndpoint(ctx(), ten.ID, ep.ID))
	_, err = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	notFound(t, err)
	notFound(t, s.DeleteEndpoint(ctx(), ten.ID, ep.ID))
	notFound(t, s.UpdateEndpoint(ctx(), ep))
}

func endpointIDs(eps []*slotwire.Endpoint) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.ID)
	}
	return out
}

func testTenantIsolation(t *testing.T, s store.Store) {
	a, b := newTenant(t, s, "A"), newTenant(t, s, "B")
	ep := newEndpoint(t, s, a, "*")
	items := ingest(t, s, t0, newEvent(a, "x.y", "", t0))
	ds, err := s.ListDeliveries(ctx(), a.ID, store.DeliveryFilter{EndpointID: ep.ID})
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("deliveries = %d", len(ds))
	}
	d := ds[0]
	_, err = s.GetEndpoint(ctx(), b.ID, ep.ID)
	notFound(t, err)
	ep2 := *ep
	ep2.TenantID = b.ID
	notFound(t, s.UpdateEndpoint(ctx(), &ep2))
	notFound(t, s.DeleteEndpoint(ctx(), b.ID, ep.ID))
	_, err = s.GetEvent(ctx(), b.ID, items[0].Event.ID)
	notFound(t, err)
	_, err = s.GetDelivery(ctx(), b.ID, d.ID)
	notFound(t, err)
	_, err = s.ListAttempts(ctx(), b.ID, d.ID)
	notFound(t, err)
	_, err = s.DeliveryPayload(ctx(), b.ID, d.ID)
	notFound(t, err)
	_, err = s.Replay(ctx(), b.ID, d.ID, slotwire.NewID(slotwire.PrefixDelivery), t0)
	notFound(t, err)
	list, err := s.ListDeliveries(ctx(), b.ID, store.DeliveryFilter{EndpointID: ep.ID})
	must(t, err)
	if len(list) != 0 {
		t.Fatal("tenant B sees A's deliveries")
	}
	eps, err := s.ListEndpoints(ctx(), b.ID, store.Page{})
	must(t, err)
	if len(eps) != 0 {
		t.Fatal("tenant B sees A's endpoints")
	}
	// B's events never reach A's endpoints.
	items = ingest(t, s, t0, newEvent(b, "x.y", "", t0))
	if items[0].Deliveries != 0 {
		t.Fatal("B's event delivered to A's endpoint")
	}
}

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

func claim(t *testing.T, s store.Store, ep, owner string, now time.Time, limit int) []*store.Job {
	t.Helper()
	jobs, err := s.Claim(ctx(), store.ClaimRequest{EndpointID: ep, Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit})
	must(t, err)
	return jobs
}

func outcome(j *store.Job, owner, status string, at time.Time, code int) store.Outcome {
	return store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: owner, Status: status,
		Attempt: slotwire.Attempt{At: at, StatusCode: code, DurationMS: 12, ResponseBody: "ok"}}
}

func testClaimAndComplete(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	jobs := claim(t, s, ep.ID, "n1", t0, 3)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	for i, j := range jobs {
		if j.Delivery.EventID != evs[i].ID || string(j.Payload) != string(evs[i].Payload) || j.Endpoint.ID != ep.ID {
			t.Fatalf("job %d = %+v", i, j.Delivery)
		}
	}
	rest := claim(t, s, ep.ID, "n2", t0, 10)
	if len(rest) != 2 {
		t.Fatalf("second claim got %d, want 2", len(rest))
	}
	if more := claim(t, s, ep.ID, "n3", t0, 10); len(more) != 0 {
		t.Fatal("claimed leased work twice")
	}
	retryAt := t0.Add(5 * time.Second)
	oc := []store.Outcome{
		outcome(jobs[0], "n1", slotwire.StatusSucceeded, t0, 200),
		outcome(jobs[1], "n1", slotwire.StatusPending, t0, 500),
		outcome(jobs[2], "n1", slotwire.StatusFailed, t0, 400),
	}
	oc[1].NextAttemptAt = retryAt
	oc[1].Attempt.Error = "HTTP 500"
	_, err := s.Complete(ctx(), oc, t0, 0)
	must(t, err)
	d0, _ := s.GetDelivery(ctx(), ten.ID, jobs[0].Delivery.ID)
	d1, _ := s.GetDelivery(ctx(), ten.ID, jobs[1].Delivery.ID)
	d2, _ := s.GetDelivery(ctx(), ten.ID, jobs[2].Delivery.ID)
	if d0.Status != slotwire.StatusSucceeded || d0.Attempts != 1 || d0.LastStatusCode != 200 || d0.NextAttemptAt != nil {
		t.Fatalf("d0 = %+v", d0)
	}
	if d1.Status != slotwire.StatusPending || d1.Attempts != 1 || d1.NextAttemptAt == nil || !d1.NextAttemptAt.Equal(retryAt) || d1.LastError != "HTTP 500" {
		t.Fatalf("d1 = %+v", d1)
	}
	if d2.Status != slotwire.StatusFailed || d2.LastStatusCode != 400 {
		t.Fatalf("d2 = %+v", d2)
	}
	// Not due yet; due after retryAt.
	if j := claim(t, s, ep.ID, "n1", t0.Add(time.Second), 10); len(j) != 0 {
		t.Fatal("retry claimed before it was due")
	}
	j := claim(t, s, ep.ID, "n1", retryAt, 10)
	if len(j) != 1 || j[0].Delivery.ID != d1.ID || j[0].Delivery.Attempts != 1 {
		t.Fatalf("retry claim = %v", j)
	}
	oc2 := outcome(j[0], "n1", slotwire.StatusSucceeded, retryAt, 204)
	_, err = s.Complete(ctx(), []store.Outcome{oc2}, retryAt, 0)
	must(t, err)
	atts, err := s.ListAttempts(ctx(), ten.ID, d1.ID)
	must(t, err)
	if len(atts) != 2 || atts[0].Number != 1 || atts[0].StatusCode != 500 || atts[0].Error != "HTTP 500" ||
		atts[1].Number != 2 || atts[1].StatusCode != 204 || atts[1].DurationMS != 12 || atts[1].ResponseBody != "ok" || !atts[1].At.Equal(retryAt) {
		t.Fatalf("attempts = %+v %+v", atts[0], atts[1])
	}
	// A stale outcome from a node that lost its lease records the attempt
	// but does not change the delivery.
	stale := outcome(rest[0], "someone-else", slotwire.StatusFailed, t0, 500)
	_, err = s.Complete(ctx(), []store.Outcome{stale}, t0, 0)
	must(t, err)
	d, _ := s.GetDelivery(ctx(), ten.ID, rest[0].Delivery.ID)
	if d.Status != slotwire.StatusInflight {
		t.Fatalf("stale outcome applied: %+v", d)
	}
	// A disabled endpoint is not claimed from.
	ep.Enabled = false
	must(t, s.UpdateEndpoint(ctx(), ep))
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	if j := claim(t, s, ep.ID, "n1", t0.Add(time.Hour), 10); len(j) != 0 {
		t.Fatal("claimed from a disabled endpoint")
	}
	due, err := s.DueEndpoints(ctx())
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("disabled endpoint due: %+v", due)
	}
}

func testClaimFIFO(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	fifo := func(now time.Time) []*store.Job {
		jobs, err := s.Claim(ctx(), store.ClaimRequest{EndpointID: ep.ID, Owner: "n", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, FIFO: true})
		must(t, err)
		return jobs
	}
	j := fifo(t0)
	if len(j) != 1 || j[0].Delivery.EventID != evs[0].ID {
		t.Fatalf("fifo claim = %v", j)
	}
	if len(fifo(t0)) != 0 {
		t.Fatal("fifo claimed past an in-flight head")
	}
	o := outcome(j[0], "n", slotwire.StatusPending, t0, 500)
	o.NextAttemptAt = t0.Add(time.Minute)
	_, err := s.Complete(ctx(), []store.Outcome{o}, t0, 0)
	must(t, err)
	if len(fifo(t0.Add(time.Second))) != 0 {
		t.Fatal("fifo skipped a head waiting for retry")
	}
	j = fifo(t0.Add(time.Minute))
	if len(j) != 1 || j[0].Delivery.EventID != evs[0].ID {
		t.Fatal("fifo did not retry the head")
	}
	_, err = s.Complete(ctx(), []store.Outcome{outcome(j[0], "n", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	j = fifo(t0.Add(time.Minute))
	if len(j) != 1 || j[0].Delivery.EventID != evs[1].ID {
		t.Fatal("fifo did not move on after the head failed for good")
	}
	// An endpoint configured for FIFO is claimed in order whatever the
	// request says.
	ordered := newEndpoint(t, s, ten, "only.this")
	ordered.Ordering = slotwire.OrderingFIFO
	must(t, s.UpdateEndpoint(ctx(), ordered))
	ingest(t, s, t0, newEvent(ten, "only.this", "", t0), newEvent(ten, "only.this", "", t0))
	if j := claim(t, s, ordered.ID, "n", t0, 10); len(j) != 1 {
		t.Fatalf("fifo endpoint: claimed %d at once, want 1", len(j))
	}
}

func testLeases(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0))
	jobs := claim(t, s, ep.ID, "dead", t0, 2) // lease until t0+1m
	if n, err := s.ReclaimExpired(ctx(), t0.Add(30*time.Second)); err != nil || n != 0 {
		t.Fatalf("reclaimed %d before expiry (%v)", n, err)
	}
	n, err := s.ReclaimExpired(ctx(), t0.Add(2*time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("reclaimed %d, want 2", n)
	}
	again := claim(t, s, ep.ID, "alive", t0.Add(2*time.Minute), 10)
	if len(again) != 3 {
		t.Fatalf("claimed %d after reclaim, want 3", len(again))
	}
	// The dead node's late outcome does not override the new owner.
	_, err = s.Complete(ctx(), []store.Outcome{outcome(jobs[0], "dead", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	if d, _ := s.GetDelivery(ctx(), ten.ID, jobs[0].Delivery.ID); d.Status != slotwire.StatusInflight {
		t.Fatalf("dead node's outcome applied: %s", d.Status)
	}
	n, err = s.Release(ctx(), "alive", []string{again[0].Delivery.ID}, t0.Add(3*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("released %d, want 1", n)
	}
	n, err = s.Release(ctx(), "alive", nil, t0.Add(3*time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("released %d, want 2", n)
	}
	if j := claim(t, s, ep.ID, "x", t0.Add(3*time.Minute), 10); len(j) != 3 {
		t.Fatalf("claimed %d after release", len(j))
	}
}

func testEndpointHealth(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	gone := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 4; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	// 410 disables at once.
	g := claim(t, s, gone.ID, "n", t0, 1)
	o := outcome(g[0], "n", slotwire.StatusFailed, t0, 410)
	o.DisableReason = "endpoint answered 410 Gone"
	tr, err := s.Complete(ctx(), []store.Outcome{o}, t0, 0)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionDisabled || tr[0].EndpointID != gone.ID || tr[0].TenantID != ten.ID {
		t.Fatalf("transitions = %+v", tr)
	}
	got, _ := s.GetEndpoint(ctx(), ten.ID, gone.ID)
	if got.Enabled || got.DisabledReason != "endpoint answered 410 Gone" {
		t.Fatalf("gone endpoint = %+v", got)
	}
	// Failures start failing_since; a success clears it (recovered).
	j := claim(t, s, ep.ID, "n", t0, 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0, 500)
	o.NextAttemptAt = t0
	tr, err = s.Complete(ctx(), []store.Outcome{o}, t0, 24*time.Hour)
	must(t, err)
	if len(tr) != 0 {
		t.Fatalf("transitions after first failure = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.FailingSince == nil || !got.FailingSince.Equal(t0) || !got.Enabled {
		t.Fatalf("after failure = %+v", got)
	}
	j = claim(t, s, ep.ID, "n", t0.Add(time.Hour), 1)
	tr, err = s.Complete(ctx(), []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0.Add(time.Hour), 200)}, t0.Add(time.Hour), 24*time.Hour)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionRecovered {
		t.Fatalf("transitions after recovery = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.FailingSince != nil {
		t.Fatal("failing_since not cleared")
	}
	// Failing for longer than disableAfter disables.
	j = claim(t, s, ep.ID, "n", t0.Add(2*time.Hour), 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0.Add(2*time.Hour), 503)
	o.NextAttemptAt = t0.Add(2 * time.Hour)
	_, err = s.Complete(ctx(), []store.Outcome{o}, t0.Add(2*time.Hour), 24*time.Hour)
	must(t, err)
	j = claim(t, s, ep.ID, "n", t0.Add(27*time.Hour), 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0.Add(27*time.Hour), 503)
	o.NextAttemptAt = t0.Add(28 * time.Hour)
	tr, err = s.Complete(ctx(), []store.Outcome{o}, t0.Add(27*time.Hour), 24*time.Hour)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionDisabled || tr[0].Reason == "" {
		t.Fatalf("transitions after long failure = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.Enabled || got.DisabledReason == "" {
		t.Fatalf("endpoint not disabled: %+v", got)
	}
}

func testDeliveryLog(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, newEvent(ten, fmt.Sprintf("t.%d", i), "", t0))
	}
	ingest(t, s, t0, evs...)
	jobs := claim(t, s, ep.ID, "n", t0, 2)
	_, err := s.Complete(ctx(), []store.Outcome{outcome(jobs[0], "n", slotwire.StatusSucceeded, t0, 200), outcome(jobs[1], "n", slotwire.StatusFailed, t0, 400)}, t0, 0)
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

func testDeleteEndpoint(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 1)
	_, err := s.Complete(ctx(), []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	must(t, s.DeleteEndpoint(ctx(), ten.ID, ep.ID))
	_, err = s.GetDelivery(ctx(), ten.ID, j[0].Delivery.ID)
	notFound(t, err)
	// Completing work for a deleted endpoint is harmless.
	_, err = s.Complete(ctx(), []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
}

func testSlots(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	acq := func(owner string, want, max int, now time.Time) int {
		t.Helper()
		n, err := s.AcquireSlots(ctx(), ep.ID, owner, want, max, now, now.Add(time.Minute))
		must(t, err)
		return n
	}
	if n := acq("a", 2, 3, t0); n != 2 {
		t.Fatalf("a got %d, want 2", n)
	}
	if n := acq("b", 3, 3, t0); n != 1 {
		t.Fatalf("b got %d of the 1 left", n)
	}
	if n := acq("a", 2, 3, t0.Add(time.Second)); n != 2 {
		t.Fatalf("a renewing got %d", n)
	}
	if n := acq("c", 1, 3, t0.Add(time.Second)); n != 0 {
		t.Fatalf("c got %d while all are held", n)
	}
	must(t, s.ReleaseSlots(ctx(), ep.ID, "b"))
	if n := acq("c", 1, 3, t0.Add(time.Second)); n != 1 {
		t.Fatalf("c got %d after b released", n)
	}
	// Giving back: a wants fewer.
	if n := acq("a", 1, 3, t0.Add(time.Second)); n != 1 {
		t.Fatalf("a shrinking holds %d", n)
	}
	// Leases end: another owner takes expired slots.
	later := t0.Add(5 * time.Minute)
	if n := acq("d", 3, 3, later); n != 3 {
		t.Fatalf("d got %d of 3 expired slots", n)
	}
	if n := acq("a", 3, 3, later); n != 0 {
		t.Fatalf("a got %d while d holds all", n)
	}
	// A lower bound takes effect at once.
	if n := acq("d", 3, 1, later); n != 1 {
		t.Fatalf("d holds %d after max became 1", n)
	}
	// Unknown endpoints have no slots.
	n, err := s.AcquireSlots(ctx(), "ep_nope", "a", 1, 1, later, later.Add(time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("unknown endpoint: %d, %v", n, err)
	}
}
