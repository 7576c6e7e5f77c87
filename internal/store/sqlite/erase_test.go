package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// The writer zeroes what it frees within b-tree pages (secure_delete
// FAST, 2) from the start, and is back in that mode after an erasure,
// which runs with it fully on.
func TestWriterSecureDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mode := func() int {
		t.Helper()
		var m int
		if err := db.W.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mode(); m != 2 {
		t.Fatalf("secure_delete = %d after open, want 2 (FAST)", m)
	}
	now := time.Now()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	if err := db.CreateTenant(ctx, ten, nil); err != nil {
		t.Fatal(err)
	}
	p := &erasure.Person{}
	p.AddEmail("jan@example.com")
	e := &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: ten.ID, Subject: erasure.SubjectEmail, CreatedAt: now}
	if err := db.Erase(ctx, e, p, nil); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 2 {
		t.Fatalf("secure_delete = %d after an erasure, want 2 (FAST)", m)
	}
}
