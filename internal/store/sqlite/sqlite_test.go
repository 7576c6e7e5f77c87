package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestSchemaVersionChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	// A new file without migration is refused as too old.
	_, err := sqlite.Open(ctx, path, sqlite.Options{})
	var se *store.SchemaError
	if !errors.As(err, &se) || se.Have != 0 {
		t.Fatalf("unmigrated open: %v", err)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Reopening a migrated file needs no migration.
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A schema from the future is refused, with or without Migrate.
	raw, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Exec(ctx, `INSERT INTO module_migrations (module, version, applied_at) VALUES ('core', 999, 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, m := range []bool{false, true} {
		_, err = sqlite.Open(ctx, path, sqlite.Options{Migrate: m})
		if !errors.As(err, &se) || se.Have != 999 {
			t.Fatalf("future schema (migrate=%v): %v", m, err)
		}
	}
}
