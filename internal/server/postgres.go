package server

import (
	"context"

	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
)

func init() {
	openPostgres = func(ctx context.Context, dsn string, o StoreOptions) (store.Store, error) {
		return postgres.Open(ctx, dsn, postgres.Options{Migrate: o.Migrate, Logger: o.Logger, Modules: o.Modules, Box: o.Box})
	}
}
