package storetest

import (
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	got, err := s.GetTenant(ctx(), ten.ID)
	must(t, err)
	if got.Name != "Acme" || got.Plan != "professional" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("tenant = %+v", got)
	}
	_, byKey, err := s.KeyByHash(ctx(), "hash-"+ten.ID)
	must(t, err)
	if byKey.ID != ten.ID || byKey.Plan != "professional" {
		t.Fatalf("KeyByHash tenant = %+v", byKey)
	}
	_, _, err = s.KeyByHash(ctx(), "nope")
	notFound(t, err)
	_, err = s.GetTenant(ctx(), "ten_nope")
	notFound(t, err)
	second := &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "second", Prefix: "sk_y",
		Name: "zapier", Last4: "abcd", Scopes: []string{"events", "customers"}, CreatedAt: t0}
	must(t, s.CreateAPIKey(ctx(), second))
	k, byKey, err := s.KeyByHash(ctx(), "second")
	must(t, err)
	if byKey.ID != ten.ID || k.ID != second.ID || k.Name != "zapier" || k.Last4 != "abcd" || len(k.Scopes) != 2 || k.Scopes[1] != "customers" {
		t.Fatalf("second key = %+v of %+v", k, byKey)
	}
	keys, err := s.ListAPIKeys(ctx(), ten.ID)
	must(t, err)
	if len(keys) != 2 || keys[1].ID != second.ID {
		t.Fatalf("ListAPIKeys = %+v", keys)
	}
	notFound(t, s.DeleteAPIKey(ctx(), "ten_other", second.ID))
	must(t, s.DeleteAPIKey(ctx(), ten.ID, second.ID))
	_, _, err = s.KeyByHash(ctx(), "second")
	notFound(t, err)
	must(t, s.CreateAPIKey(ctx(), &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "second", Prefix: "sk_y", CreatedAt: t0}))
	if err := s.CreateAPIKey(ctx(), &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID, Hash: "second", Prefix: "sk_y", CreatedAt: t0}); err == nil {
		t.Fatal("duplicate key hash accepted")
	}
	newTenant(t, s, "Beta")
	all, err := s.ListTenants(ctx())
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("ListTenants = %d", len(all))
	}
	// UpdateTenant changes the name and plan.
	up := newTenant(t, s, "Before")
	up.Name, up.Plan = "After", "enterprise"
	must(t, s.UpdateTenant(ctx(), up))
	if got, err := s.GetTenant(ctx(), up.ID); err != nil || got.Name != "After" || got.Plan != "enterprise" {
		t.Fatalf("updated tenant = %+v, %v", got, err)
	}
	notFound(t, s.UpdateTenant(ctx(), &slotwire.Tenant{ID: "ten_nope", Name: "x", Plan: "basic"}))
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
	got.SourceApps, got.SourceTypes, got.PayloadFormat = []string{"BC-US", "BC-EU"}, []string{"service_order"}, slotwire.FormatFlat
	fs := t0.Add(time.Hour)
	got.FailingSince = &fs
	got.UpdatedAt = t0.Add(time.Minute)
	got.Offset = "-15m0s"
	must(t, s.UpdateEndpoint(ctx(), got))
	again, err := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	must(t, err)
	if again.Description != "ERP" || again.Enabled || again.DisabledReason != "manual" || again.MaxConcurrency != 3 ||
		again.Ordering != "fifo" || again.RateLimit != 10 || again.FailingSince == nil || !again.FailingSince.Equal(fs) ||
		!again.UpdatedAt.Equal(t0.Add(time.Minute)) || !again.CreatedAt.Equal(t0) ||
		len(again.SourceApps) != 2 || again.SourceApps[1] != "BC-EU" || again.SourceTypes[0] != "service_order" || again.PayloadFormat != "flat" ||
		again.Offset != "-15m0s" {
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

// An e-mail endpoint keeps its type and address through create, read,
// list, the fan-out's read and update; an endpoint stored without a type
// reads as http.
func testEmailEndpoint(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	web := newEndpoint(t, s, ten, "*")
	ep := &slotwire.Endpoint{
		ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, Type: slotwire.EndpointEmail, Email: "ops@example.com",
		EventTypes: []string{"appointment.*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
		PayloadFormat: slotwire.FormatThin, CreatedAt: t0, UpdatedAt: t0,
	}
	must(t, s.CreateEndpoint(ctx(), ep))
	got, err := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	must(t, err)
	if !got.IsEmail() || got.Email != "ops@example.com" || got.URL != "" || got.PayloadFormat != "thin" || got.Secret != ep.Secret {
		t.Fatalf("e-mail endpoint = %+v", got)
	}
	if w, err := s.GetEndpoint(ctx(), ten.ID, web.ID); err != nil || w.Type != slotwire.EndpointHTTP || w.Email != "" {
		t.Fatalf("endpoint stored without a type = %+v, %v", w, err)
	}
	v0, err := s.EndpointsVersion(ctx(), ten.ID)
	must(t, err)
	got.Email, got.UpdatedAt = "oncall@example.org", t0.Add(time.Minute)
	must(t, s.UpdateEndpoint(ctx(), got))
	if v1, err := s.EndpointsVersion(ctx(), ten.ID); err != nil || v1 <= v0 {
		t.Fatalf("changing the address did not bump the endpoints version: %d -> %d, %v", v0, v1, err)
	}
	enabled, err := s.EnabledEndpoints(ctx(), ten.ID)
	must(t, err)
	byID := map[string]*slotwire.Endpoint{}
	for _, e := range enabled {
		byID[e.ID] = e
	}
	if e := byID[ep.ID]; e == nil || !e.IsEmail() || e.Email != "oncall@example.org" {
		t.Fatalf("enabled endpoints = %+v", enabled)
	}
	list, err := s.ListEndpoints(ctx(), ten.ID, store.Page{Limit: 10})
	must(t, err)
	if len(list) != 2 || list[0].ID != ep.ID || list[0].Type != slotwire.EndpointEmail || list[1].Type != slotwire.EndpointHTTP {
		t.Fatalf("list = %+v", list)
	}
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

func testDeleteEndpoint(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 1)
	_, err := complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	must(t, s.DeleteEndpoint(ctx(), ten.ID, ep.ID))
	_, err = s.GetDelivery(ctx(), ten.ID, j[0].Delivery.ID)
	notFound(t, err)
	// Completing work for a deleted endpoint is harmless.
	_, err = complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
}

// The event type registry: register, list, conflict, archive, register
// again; and the strict_event_types setting.
func testEventTypes(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	paid := &slotwire.EventType{TenantID: ten.ID, Type: "invoice.paid", Description: "paid",
		Schema: []byte(`{"type":"object"}`), Example: []byte(`{"n":1}`), CreatedAt: t0}
	must(t, s.PutEventType(ctx(), paid))
	must(t, s.PutEventType(ctx(), &slotwire.EventType{TenantID: ten.ID, Type: "invoice.due", CreatedAt: t0}))
	if err := s.PutEventType(ctx(), paid); slotwire.ErrorCode(err) != slotwire.ECodeConflict {
		t.Fatalf("registering twice: %v", err)
	}
	list, err := s.ListEventTypes(ctx(), ten.ID)
	must(t, err)
	if len(list) != 2 || list[0].Type != "invoice.due" || list[0].Schema != nil || string(list[1].Schema) != `{"type":"object"}` ||
		string(list[1].Example) != `{"n":1}` || list[1].Description != "paid" {
		t.Fatalf("event types = %+v", list)
	}
	if l, _ := s.ListEventTypes(ctx(), other.ID); len(l) != 0 {
		t.Fatal("another tenant sees the types")
	}
	must(t, s.ArchiveEventType(ctx(), ten.ID, "invoice.paid", t0))
	notFound(t, s.ArchiveEventType(ctx(), ten.ID, "invoice.paid", t0))
	if l, _ := s.ListEventTypes(ctx(), ten.ID); len(l) != 1 {
		t.Fatalf("archived type still listed: %+v", l)
	}
	must(t, s.PutEventType(ctx(), paid)) // registered again
	ten.StrictEventTypes = true
	must(t, s.UpdateTenant(ctx(), ten))
	if got, _ := s.GetTenant(ctx(), ten.ID); !got.StrictEventTypes {
		t.Fatal("strict_event_types not stored")
	}
	if _, byKey, _ := s.KeyByHash(ctx(), "hash-"+ten.ID); !byKey.StrictEventTypes {
		t.Fatal("the key's tenant does not carry strict_event_types")
	}
}
