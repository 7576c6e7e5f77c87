package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// CoreModule is the store's own migration set, from a driver's embedded
// "migrations" folder (with a sub-folder named for its dialect).
func CoreModule(embedded fs.FS) store.Module {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err)
	}
	return store.Module{Name: store.CoreModule, Migrations: sub}
}

// Migration is one numbered SQL file of a module.
type Migration struct {
	Module  string
	Version int
	Name    string
	SQL     string
}

// Migrations reads a module's migrations for dialect: NNNN_name.sql files
// in the folder named for the dialect and in "common", in order. A bad
// name or two files with one number is a build mistake: it panics.
func Migrations(m store.Module, dialect string) []Migration {
	var out []Migration
	for _, dir := range []string{dialect, "common"} {
		entries, err := fs.ReadDir(m.Migrations, dir)
		if err != nil {
			continue // the module has no such folder
		}
		for _, e := range entries {
			out = append(out, readMigration(m, dir, e.Name()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			panic(fmt.Sprintf("module %s: two migrations numbered %d", m.Name, out[i].Version))
		}
	}
	return out
}

func readMigration(m store.Module, dir, name string) Migration {
	num, _, ok := strings.Cut(name, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
		panic("bad migration name " + dir + "/" + name)
	}
	b, err := fs.ReadFile(m.Migrations, dir+"/"+name)
	if err != nil {
		panic(err)
	}
	return Migration{Module: m.Name, Version: v, Name: m.Name + "/" + name, SQL: string(b)}
}

// Latest is the version of a module's newest migration.
func Latest(m store.Module, dialect string) int {
	ms := Migrations(m, dialect)
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Applied returns the version each module has in the database (missing
// modules: 0).
func (db *DB) Applied(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	ok, err := db.tableExists(ctx, "module_migrations")
	if err != nil || !ok {
		return out, err
	}
	rows, err := db.R.QueryContext(ctx, `SELECT module, MAX(version) FROM module_migrations GROUP BY module`)
	if err != nil {
		return nil, db.errf("schema version", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var v int
		if err := rows.Scan(&m, &v); err != nil {
			return nil, db.errf("schema version", err)
		}
		out[m] = v
	}
	return out, rows.Err()
}

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	if err := db.R.QueryRowContext(ctx, db.q(db.D.TableExists()), name).Scan(&ok); err != nil {
		return false, db.errf("schema version", err)
	}
	return ok, nil
}

// Check returns a *store.SchemaError for the first module whose version in
// the database is not the binary's.
func (db *DB) Check(ctx context.Context, modules []store.Module) error {
	have, err := db.Applied(ctx)
	if err != nil {
		return err
	}
	for _, m := range modules {
		if want := Latest(m, db.D.Name()); have[m.Name] != want {
			return &store.SchemaError{Module: m.Name, Have: have[m.Name], Want: want}
		}
	}
	return nil
}

// Apply runs one migration and records it, in one transaction of the
// driver's choosing.
type Apply func(ctx context.Context, m Migration, record string, args ...any) error

// Migrate brings every module up to date, oldest migration first within a
// module, core first. It creates the bookkeeping table, converts the
// single version counter of earlier releases, and refuses a module newer
// in the database than in the binary. The caller serialises nodes.
func (db *DB) Migrate(ctx context.Context, modules []store.Module, apply Apply) error {
	if err := db.prepareMigrations(ctx); err != nil {
		return err
	}
	have, err := db.Applied(ctx)
	if err != nil {
		return err
	}
	record := db.q(`INSERT INTO module_migrations (module, version, applied_at) VALUES (?, ?, ?)`)
	for _, m := range modules {
		list := Migrations(m, db.D.Name())
		if want := Latest(m, db.D.Name()); have[m.Name] > want {
			return &store.SchemaError{Module: m.Name, Have: have[m.Name], Want: want}
		}
		for _, mg := range list {
			if mg.Version <= have[m.Name] {
				continue
			}
			if err := apply(ctx, mg, record, m.Name, mg.Version, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("%s: migrate %s: %w", db.D.Name(), mg.Name, err)
			}
			db.Log.Info("applied migration", "module", m.Name, "version", mg.Version, "name", mg.Name)
		}
	}
	return nil
}

// legacy maps the single version counter of releases before modules to
// (module, version): 1 core init, 2 the scheduling tables, 3 send slots.
var legacy = map[int][2]any{1: {store.CoreModule, 1}, 2: {"scheduling", 1}, 3: {store.CoreModule, 2}}

// prepareMigrations creates module_migrations and, once, converts the
// legacy schema_migrations table into it.
func (db *DB) prepareMigrations(ctx context.Context) error {
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS module_migrations (module TEXT NOT NULL,
		version INTEGER NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (module, version))`); err != nil {
		return db.errf("migrate", err)
	}
	old, err := db.tableExists(ctx, "schema_migrations")
	if err != nil || !old {
		return err
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			return db.errf("migrate: legacy versions", err)
		}
		type row struct{ v, at int64 }
		list, err := collect(rows, func(s Scanner) (row, error) { var r row; return r, s.Scan(&r.v, &r.at) })
		if err != nil {
			return db.errf("migrate: legacy versions", err)
		}
		for _, r := range list {
			mv, ok := legacy[int(r.v)]
			if !ok {
				return fmt.Errorf("%s: migrate: unknown legacy schema version %d", db.D.Name(), r.v)
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO module_migrations (module, version, applied_at) VALUES (?, ?, ?)`),
				mv[0], mv[1], r.at); err != nil {
				return db.errf("migrate: legacy versions", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE schema_migrations`); err != nil {
			return db.errf("migrate: legacy versions", err)
		}
		return nil
	})
}
