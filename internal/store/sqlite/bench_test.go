package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/fanout"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// BenchmarkIngest stores batches of 32 events, each with one delivery
// leased at once, as the ingester does under load (fsync on).
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "B", Plan: "p", CreatedAt: now}
	if err := db.CreateTenant(ctx, ten, nil); err != nil {
		b.Fatal(err)
	}
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/h",
		EventTypes: []string{"*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"appointment_id":"apt_123","start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z","customer":{"name":"Ada"}}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: "n", LeaseUntil: now.Add(time.Minute)}
		for k := 0; k < 32; k++ {
			e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "a.b", Data: data, CreatedAt: now}
			e.Payload = e.BuildPayload()
			batch.Items = append(batch.Items, &store.IngestItem{Event: e})
		}
		if err := fanout.Fill(ctx, db, batch.Items); err != nil {
			b.Fatal(err)
		}
		for _, it := range batch.Items {
			it.Targets[0].Leased = true
		}
		if err := db.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComplete records the outcomes of 64 first attempts that
// succeeded, spread over 16 endpoints, as the completer does under load
// (statistics and exchange headers included; ingest not timed).
func BenchmarkComplete(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "B", Plan: "p", CreatedAt: now}
	if err := db.CreateTenant(ctx, ten, nil); err != nil {
		b.Fatal(err)
	}
	for range 16 {
		ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: "https://example.com/h",
			EventTypes: []string{"*"}, Enabled: true, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
		if err := db.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	data := []byte(`{"appointment_id":"apt_123","start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z","customer":{"name":"Ada"}}`)
	headers := slotwire.HeaderText("Content-Type: application/json\nUser-Agent: Slotwire/0.1.0\nWebhook-Id: evt_x\nWebhook-Signature: [masked]\nWebhook-Timestamp: 1796498685\n")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		batch := &store.IngestBatch{Now: now, IdempotencyWindow: time.Hour, Owner: "n", LeaseUntil: now.Add(time.Minute)}
		for k := 0; k < 4; k++ { // 4 events × 16 endpoints
			e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "a.b", Data: data, CreatedAt: now}
			e.Payload = e.BuildPayload()
			batch.Items = append(batch.Items, &store.IngestItem{Event: e})
		}
		if err := fanout.Fill(ctx, db, batch.Items); err != nil {
			b.Fatal(err)
		}
		for _, it := range batch.Items {
			for t := range it.Targets {
				it.Targets[t].Leased = true
			}
		}
		if err := db.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
		var outs []store.Outcome
		for _, it := range batch.Items {
			for _, j := range it.Jobs {
				outs = append(outs, store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Delivery.EndpointID, Owner: "n",
					TenantID: ten.ID, CreatedAt: now, Status: slotwire.StatusSucceeded,
					Attempt: slotwire.Attempt{At: now, StatusCode: 200, DurationMS: 3, RequestHeaders: headers,
						ResponseHeaders: "Content-Length: 0\nDate: Sat, 05 Dec 2026 21:00:00 GMT\n"}})
			}
		}
		b.StartTimer()
		if _, err := db.Complete(ctx, store.CompleteBatch{Outcomes: outs, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
