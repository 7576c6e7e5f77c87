package scheduling

import (
	"embed"
	"io/fs"

	"github.com/slotwire/slotwire/internal/store"
)

//go:embed migrations/common/*.sql
var migrationFS embed.FS

// Module is the scheduling core's migration set: its tables are created
// and upgraded by the store it is opened with, numbered on their own.
var Module = store.Module{Name: "scheduling", Migrations: mustSub(migrationFS, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
