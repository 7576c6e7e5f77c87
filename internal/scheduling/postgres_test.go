//go:build postgres

package scheduling_test

import (
	"context"
	"testing"

	"github.com/slotwire/slotwire/internal/pgtest"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
)

// With -tags postgres the whole suite runs on PostgreSQL, one fresh
// database per test, on the server named by SLOTWIRE_TEST_POSTGRES:
//
//	bash scripts/with-postgres.sh go test -race -tags postgres ./internal/scheduling/
func init() {
	openStore = func(t *testing.T) testStore {
		t.Helper()
		db, err := postgres.Open(context.Background(), pgtest.Database(t), postgres.Options{Migrate: true, MaxConns: 4, Modules: []store.Module{scheduling.Module}})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
}
