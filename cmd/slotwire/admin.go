package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/server"
)

func tenantCmd() *command {
	return &command{name: "tenant", summary: "create a tenant directly in the database (no server, no admin token)",
		about: `Create a tenant by writing it into the database directly: no running server and no admin token
are needed. To create one through the API of a running server, use "slotwire tenants create".`,
		example: "slotwire tenant create --name Acme --plan professional --db ./slotwire.db",
		subs: []*command{{name: "create", usage: "--name NAME [--plan PLAN] [--plans TABLE] [--db PATH]", summary: "create a tenant and print it with its API key, as JSON",
			about: `Create a tenant in the database and print it as JSON, with its API key (shown only this once).
A new SQLite file is created and migrated; a PostgreSQL database must be migrated already.`,
			example: `slotwire tenant create --name Acme
slotwire tenant create --name Acme --plan professional --db postgres://slotwire@db/slotwire`,
			setup: tenantCreate}}}
}

func tenantCreate(fs *flag.FlagSet, c *cli) func([]string) error {
	ef := &envFlags{fs: fs}
	var db, name, plan, planTable string
	ef.String(&db, "db", "SLOTWIRE_DB", "./slotwire.db", "SQLite file, or a postgres:// URL")
	fs.StringVar(&name, "name", "", "company name (required)")
	fs.StringVar(&plan, "plan", plans.Default, "plan, one of --plans")
	ef.String(&planTable, "plans", "SLOTWIRE_PLANS", plans.DefaultTable, "tenant plans, as for serve")
	return func([]string) error {
		table, err := plans.Parse(planTable)
		if err != nil {
			return flagError(fs, "plans", err)
		}
		if strings.TrimSpace(name) == "" {
			return usagef("tenant create: --name is required")
		}
		if _, err := table.Check(plan); err != nil {
			return usagef("--plan %q does not exist; the plans are %s", plan, strings.Join(table.Names(), ", "))
		}
		st, err := server.OpenStore(c.ctx, db, server.StoreOptions{Migrate: !isPostgres(db), Modules: modules()})
		if err != nil {
			return err
		}
		defer st.Close()
		t, err := api.CreateTenant(c.ctx, st, table, name, plan, time.Now())
		if err != nil {
			return err
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
}

func migrateCmd() *command {
	return &command{name: "migrate", usage: "[--db PATH|URL]", summary: "apply database migrations",
		about: `Apply every pending migration, each in its own transaction (on PostgreSQL under an advisory lock,
so several nodes running it at once are safe), then print "database is up to date".`,
		example: `slotwire migrate --db ./slotwire.db
slotwire migrate --db postgres://slotwire@db.internal/slotwire`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			ef := &envFlags{fs: fs}
			var db string
			ef.String(&db, "db", "SLOTWIRE_DB", "./slotwire.db", "SQLite file, or a postgres:// URL")
			return func([]string) error {
				log, _ := newLogger(c.stderr, "info", "text")
				st, err := server.OpenStore(c.ctx, db, server.StoreOptions{Migrate: true, Logger: log, Modules: modules()})
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, "database is up to date:", redactDSN(db))
				return st.Close()
			}
		}}
}
