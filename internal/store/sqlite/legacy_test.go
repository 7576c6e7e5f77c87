package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// A database made by a release before module migrations (one version
// counter in schema_migrations: 1 init, 2 scheduling tables, 3 send slots)
// opens after `slotwire migrate`, with its data, its versions carried over
// per module and nothing applied twice.
func TestLegacyLayoutUpgrades(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"migrations/sqlite/0001_init.sql", "../../scheduling/migrations/common/0001_scheduling.sql",
		"migrations/sqlite/0002_endpoint_slots.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 1), (2, 2), (3, 3)`,
		`INSERT INTO tenants (id, name, plan, created_at) VALUES ('ten_old', 'Old', 'basic', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	mods := []store.Module{scheduling.Module}
	_, err = sqlite.Open(ctx, path, sqlite.Options{Modules: mods})
	var se *store.SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("open without migrating: %v, want a schema error telling to migrate", err)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true, Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	have, err := db.Applied(ctx)
	if err != nil || have[store.CoreModule] != 2 || have["scheduling"] != 1 {
		t.Fatalf("versions = %v, %v", have, err)
	}
	if ten, err := db.GetTenant(ctx, "ten_old"); err != nil || ten.Name != "Old" {
		t.Fatalf("old tenant = %+v, %v", ten, err)
	}
}
