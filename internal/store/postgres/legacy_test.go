package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
	"github.com/slotwire/slotwire/internal/store/storetest"
)

func TestLegacyLayoutUpgrades(t *testing.T) {
	t.Parallel()
	dsn := freshDSN(t)
	raw := rawDB(t, dsn)
	var files []string
	for _, f := range []string{"migrations/postgres/0001_init.sql", "../../scheduling/migrations/common/0001_scheduling.sql", "migrations/postgres/0002_endpoint_slots.sql"} {
		b, err := os.ReadFile(f)
		must(t, err)
		files = append(files, string(b))
	}
	storetest.LegacyUpgrade(t, storetest.Legacy{
		Exec:  func(q string) error { _, err := raw.Exec(q); return err },
		Files: files,
		Open: func(migrate bool) (store.Store, error) {
			return postgres.Open(context.Background(), dsn, postgres.Options{Migrate: migrate, Modules: []store.Module{scheduling.Module}})
		},
	})
}
