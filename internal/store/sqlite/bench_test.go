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
