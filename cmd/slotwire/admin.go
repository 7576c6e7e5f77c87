package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/server"
)

func runTenant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: slotwire tenant create --name NAME [--plan PLAN] [--plans TABLE] [--db PATH]")
		return errUsage
	}
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := &envFlags{fs: fs}
	var db, name, plan, planTable string
	ef.String(&db, "db", "SLOTWIRE_DB", "./slotwire.db", "SQLite file, or a postgres:// URL")
	fs.StringVar(&name, "name", "", "company name (required)")
	fs.StringVar(&plan, "plan", plans.Default, "plan, one of --plans")
	ef.String(&planTable, "plans", "SLOTWIRE_PLANS", plans.DefaultTable, "tenant plans, as for serve")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	table, err := plans.Parse(planTable)
	if err != nil {
		return usagef("--plans: %v", err)
	}
	if strings.TrimSpace(name) == "" {
		return usagef("tenant create: --name is required")
	}
	if _, err := table.Check(plan); err != nil {
		return usagef("--plan %q does not exist; the plans are %s", plan, strings.Join(table.Names(), ", "))
	}
	st, err := server.OpenStore(ctx, db, server.StoreOptions{Migrate: !isPostgres(db), Modules: modules()})
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := api.CreateTenant(ctx, st, table, name, plan, time.Now())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := &envFlags{fs: fs}
	var db string
	ef.String(&db, "db", "SLOTWIRE_DB", "./slotwire.db", "SQLite file, or a postgres:// URL")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, _ := newLogger(stderr, "info", "text")
	st, err := server.OpenStore(ctx, db, server.StoreOptions{Migrate: true, Logger: log, Modules: modules()})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database is up to date:", redactDSN(db))
	return st.Close()
}
