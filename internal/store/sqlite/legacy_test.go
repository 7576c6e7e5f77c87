package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/internal/store/storetest"
)

func TestLegacyLayoutUpgrades(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open(sqlite.SQLDriver, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.LegacyUpgrade(t, storetest.Legacy{
		Exec:  func(q string) error { _, err := raw.Exec(q); return err },
		Files: readAll(t, "migrations/sqlite/0001_init.sql", "../../scheduling/migrations/common/0001_scheduling.sql", "migrations/sqlite/0002_endpoint_slots.sql"),
		Open: func(migrate bool) (store.Store, error) {
			return sqlite.Open(context.Background(), path, sqlite.Options{Migrate: migrate, Modules: []store.Module{scheduling.Module}})
		},
	})
}

func readAll(t *testing.T, files ...string) []string {
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
