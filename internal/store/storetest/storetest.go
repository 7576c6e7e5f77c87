// Package storetest is the conformance suite every store.Store driver must
// pass. A driver's test calls Run with a function that opens a fresh, empty,
// migrated store.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/health"
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
		{"EmailEndpoint", testEmailEndpoint},
		{"EventTypes", testEventTypes},
		{"TenantIsolation", testTenantIsolation},
		{"IngestFanOut", testIngestFanOut},
		{"Idempotency", testIdempotency},
		{"IngestTake", testIngestTake},
		{"IngestStaleTarget", testIngestStaleTarget},
		{"EndpointsVersion", testEndpointsVersion},
		{"IngestRevokedKey", testIngestRevokedKey},
		{"ClaimAndComplete", testClaimAndComplete},
		{"ClaimFIFO", testClaimFIFO},
		{"ClaimKeyed", testClaimKeyed},
		{"PendingVerification", testPendingVerification},
		{"FilteredOutcome", testFilteredOutcome},
		{"Leases", testLeases},
		{"EndpointHealth", testEndpointHealth},
		{"DeliveryLog", testDeliveryLog},
		{"DeliverySearch", testDeliverySearch},
		{"FeedTokens", testFeedTokens},
		{"Stats", testStats},
		{"StatsStale", testStatsStale},
		{"Retention", testRetention},
		{"DeleteEndpointCascades", testDeleteEndpoint},
		{"Slots", testSlots},
		{"WriteEmits", testWriteEmits},
		{"ReadBesideWrite", testReadBesideWrite},
		{"Erasure", testErasure},
		{"Sessions", testSessions},
		{"Nodes", testNodes},
		{"Figures", testFigures},
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

func claim(t *testing.T, s store.Store, ep, owner string, now time.Time, limit int) []*store.Job {
	t.Helper()
	jobs, err := s.Claim(ctx(), store.ClaimRequest{EndpointID: ep, Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit})
	must(t, err)
	return jobs
}

func outcome(j *store.Job, owner, status string, at time.Time, code int) store.Outcome {
	return store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Endpoint.ID, Owner: owner, Status: status,
		TenantID: j.Delivery.TenantID, CreatedAt: j.Delivery.CreatedAt, Prior: j.Delivery.Attempts,
		Attempt: slotwire.Attempt{At: at, StatusCode: code, DurationMS: 12, ResponseBody: "ok",
			RequestHeaders: "Webhook-Id: " + slotwire.HeaderText(j.Delivery.EventID) + "\n", ResponseHeaders: "X-Got: 1\n"}}
}

// complete records outcomes with the default health policy of a node
// whose endpoints are disabled after failing for after (0: never).
func complete(s store.Store, o []store.Outcome, now time.Time, after time.Duration) ([]store.EndpointTransition, error) {
	return s.Complete(ctx(), store.CompleteBatch{Outcomes: o, Now: now, Health: health.Policy{DisableAfter: after}})
}
