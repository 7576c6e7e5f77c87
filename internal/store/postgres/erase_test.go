package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// After an erasure commits, the tables it may have changed are vacuumed
// (the old row versions would otherwise wait for autovacuum), the events
// table included; a failure would be logged as a warning.
func TestErasureVacuumsItsTables(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	var logs syncBuffer
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true, MaxConns: 4,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "Acme", Plan: "pro", CreatedAt: t0}
	must(t, db.CreateTenant(ctx, ten, &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: ten.ID,
		Hash: "h-" + ten.ID, Prefix: "sk_x", CreatedAt: t0}))
	ev := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: ten.ID, Type: "crm.updated",
		Data: []byte(`{"email":"jan@example.com","name":"Jan"}`), CreatedAt: t0}
	ev.Payload = ev.BuildPayload()
	must(t, db.Ingest(ctx, &store.IngestBatch{Now: t0, Items: []*store.IngestItem{{Event: ev}}}))
	p := &erasure.Person{}
	p.AddEmail("jan@example.com")
	e := &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: ten.ID, Subject: erasure.SubjectEmail, CreatedAt: t0}
	must(t, db.Erase(ctx, e, p, nil))
	if e.Counts["events"] != 1 {
		t.Fatalf("counts = %v", e.Counts)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("erasure warned:\n%s", logs.String())
	}
	raw := rawDB(t, dsn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var vacuumed bool
		must(t, raw.QueryRowContext(ctx, `SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'events'`).Scan(&vacuumed))
		if vacuumed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("events was not vacuumed after the erasure")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
