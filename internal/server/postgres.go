package server

import (
	"context"
	"log/slog"

	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
)

func init() {
	openPostgres = func(ctx context.Context, dsn string, migrate bool, log *slog.Logger) (store.Store, error) {
		return postgres.Open(ctx, dsn, postgres.Options{Migrate: migrate, Logger: log})
	}
}
