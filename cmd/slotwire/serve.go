package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/server"
)

func version() string { return slotwire.Version }

// envFlags registers flags whose defaults come from SLOTWIRE_* variables,
// and keeps their table (specs) for docs/configuration.md.
type envFlags struct {
	fs    *flag.FlagSet
	errs  []string
	group string     // heading of the flags registered next
	specs []flagSpec // every flag registered, in order
}

// flagSpec is one serve flag as the configuration reference shows it: the
// default is the code's, whatever the environment says.
type flagSpec struct {
	Group, Name, Env, Default, Type, Usage string
}

func (e *envFlags) spec(name, env, def, typ, usage string) {
	e.specs = append(e.specs, flagSpec{Group: e.group, Name: name, Env: env, Default: def, Type: typ, Usage: usage})
}

func (e *envFlags) env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (e *envFlags) String(p *string, name, env, def, usage string) {
	e.spec(name, env, def, "string", usage)
	e.fs.StringVar(p, name, e.env(env, def), usage+" ($"+env+")")
}

func (e *envFlags) Bool(p *bool, name, env string, def bool, usage string) {
	e.spec(name, env, strconv.FormatBool(def), "bool", usage)
	v := def
	if s, ok := os.LookupEnv(env); ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("$%s: %q is not a boolean", env, s))
		}
		v = b
	}
	e.fs.BoolVar(p, name, v, usage+" ($"+env+")")
}

func (e *envFlags) Int(p *int, name, env string, def int, usage string) {
	e.spec(name, env, strconv.Itoa(def), "int", usage)
	v := def
	if s, ok := os.LookupEnv(env); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("$%s: %q is not a number", env, s))
		}
		v = n
	}
	e.fs.IntVar(p, name, v, usage+" ($"+env+")")
}

func (e *envFlags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	e.spec(name, env, formatDuration(def), "duration", usage)
	v := def
	if s, ok := os.LookupEnv(env); ok {
		d, err := parseDuration(s)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("$%s: %v", env, err))
		}
		v = d
	}
	// The default is the value when the flag is registered: set it first,
	// so that -h shows it.
	*p = v
	e.fs.Var((*durationValue)(p), name, usage+" ($"+env+")")
}

// Var registers a flag of its own type; its current value is the default.
func (e *envFlags) Var(v interface {
	flag.Value
	Type() string
}, name, env, usage string) {
	e.spec(name, env, v.String(), v.Type(), usage)
	if s, ok := os.LookupEnv(env); ok {
		if err := v.Set(s); err != nil {
			e.errs = append(e.errs, fmt.Sprintf("$%s: %v", env, err))
		}
	}
	e.fs.Var(v, name, usage+" ($"+env+")")
}

// parseDuration accepts Go durations and a day suffix ("5d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 15s, 5m, 2h, 5d)", s)
	}
	return d, nil
}

// formatDuration writes a duration as parseDuration reads it, short:
// "5d", "2m", "1h30m", "15s".
func formatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type durationValue time.Duration

func (d *durationValue) String() string { return formatDuration(time.Duration(*d)) }

// Type names the flag's argument in -h.
func (d *durationValue) Type() string { return "duration" }
func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	*d = durationValue(v)
	return err
}

type scheduleValue []time.Duration

// Type names the flag's argument in -h.
func (s *scheduleValue) Type() string { return "delays" }

func (s *scheduleValue) String() string {
	var parts []string
	for _, d := range *s {
		parts = append(parts, formatDuration(d))
	}
	return strings.Join(parts, ",")
}

func (s *scheduleValue) Set(v string) error {
	var out []time.Duration
	for _, p := range strings.Split(v, ",") {
		d, err := parseDuration(p)
		if err != nil {
			return err
		}
		if d < 0 {
			return fmt.Errorf("negative delay %q", p)
		}
		out = append(out, d)
	}
	if len(out) == 0 || len(out) > 50 {
		return fmt.Errorf("retry schedule needs 1 to 50 delays")
	}
	*s = out
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return slog.New(slog.NewTextHandler(w, o)), nil
}

const serveAbout = `Run a Slotwire node: the HTTP API and the delivery engine, on an embedded SQLite file
(created and migrated on first start) or a PostgreSQL database shared by several nodes.

Every flag can also be set through its environment variable; the flag wins.
Durations use Go syntax (500ms, 15s, 5m, 2h) or days (5d).`

func serveCmd() *command {
	return &command{name: "serve", usage: "[flags]", nargs: 0, summary: "run a node: the HTTP API and deliveries", about: serveAbout,
		example: `SLOTWIRE_ADMIN_TOKEN=secret slotwire serve
slotwire serve --addr 0.0.0.0:8080 --db /var/lib/slotwire/slotwire.db
slotwire serve --db postgres://slotwire@db/slotwire --role worker --node-id worker-1`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			o := serveFlags(fs)
			return func([]string) error { return o.run(c.ctx, c.stdout, c.stderr) }
		}}
}

// serveOptions are the flags of serve.
type serveOptions struct {
	fs                                        *flag.FlagSet
	ef                                        *envFlags
	cfg                                       server.Config
	maxEvent                                  int
	logLevel, logFormat, debugAddr, planTable string
	noMigrate                                 bool
	schedule                                  scheduleValue
}

// Headings of the serve flags in docs/configuration.md, in order.
const (
	groupServer   = "Server and storage"
	groupCluster  = "Several nodes"
	groupDelivery = "Delivery"
	groupTenants  = "Tenants and limits"
	groupEmail    = "E-mail"
	groupRetain   = "Retention"
	groupObserve  = "Logs, metrics, traces and profiles"
)

// serveFlags registers the flags of serve, group by group; ef.specs is
// their table.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	ef := &envFlags{fs: fs}
	o := &serveOptions{fs: fs, ef: ef, schedule: scheduleValue(dispatch.DefaultSchedule)}
	ef.group = groupServer
	ef.String(&o.cfg.Addr, "addr", "SLOTWIRE_ADDR", "127.0.0.1:8080", "listen address of the HTTP API")
	ef.String(&o.cfg.DB, "db", "SLOTWIRE_DB", "./slotwire.db", "SQLite file, or a postgres:// URL")
	ef.Bool(&o.noMigrate, "no-migrate", "SLOTWIRE_NO_MIGRATE", false, "do not apply migrations at start (always so for postgres:// URLs: run slotwire migrate first)")
	ef.String(&o.cfg.SQLiteSynchronous, "sqlite-synchronous", "SLOTWIRE_SQLITE_SYNCHRONOUS", "FULL", "SQLite synchronous pragma: FULL (fsync every commit) or NORMAL")
	ef.String(&o.cfg.SecretKeyFile, "secret-key-file", "SLOTWIRE_SECRET_KEY_FILE", "", "file holding the key that encrypts stored secrets (default: $SLOTWIRE_SECRET_KEY, else slotwire.key beside a SQLite file)")
	ef.String(&o.cfg.AdminToken, "admin-token", "SLOTWIRE_ADMIN_TOKEN", "", "bearer token of the admin routes (empty: admin API off)")
	ef.String(&o.cfg.PublicURL, "public-url", "SLOTWIRE_PUBLIC_URL", "", "address users reach this server at, e.g. https://hooks.example.com, for the links it hands out (empty: the request's host)")
	ef.Bool(&o.cfg.NoDashboard, "no-dashboard", "SLOTWIRE_NO_DASHBOARD", false, "do not serve the web dashboard at /")
	ef.group = groupCluster
	ef.String(&o.cfg.Role, "role", "SLOTWIRE_ROLE", "all", "all, api (no deliveries) or worker (no HTTP API)")
	ef.String(&o.cfg.NodeID, "node-id", "SLOTWIRE_NODE_ID", "", "name of this node in leases (default hostname/addr); keep it stable across restarts")
	ef.Duration(&o.cfg.Delivery.Lease, "lease", "SLOTWIRE_LEASE", 2*time.Minute, "how long claimed work belongs to a node before others may take it")
	ef.Duration(&o.cfg.Delivery.PollInterval, "poll-interval", "SLOTWIRE_POLL_INTERVAL", time.Second, "how often the database is checked for due work")
	ef.group = groupDelivery
	ef.Duration(&o.cfg.Delivery.Timeout, "delivery-timeout", "SLOTWIRE_DELIVERY_TIMEOUT", 15*time.Second, "timeout of one webhook request")
	ef.Var(&o.schedule, "retry-schedule", "SLOTWIRE_RETRY_SCHEDULE", "comma-separated delays before each attempt")
	ef.Int(&o.cfg.Delivery.Concurrency, "endpoint-concurrency", "SLOTWIRE_ENDPOINT_CONCURRENCY", 8, "default requests in flight per endpoint")
	ef.Int(&o.cfg.Delivery.MaxInflight, "max-inflight", "SLOTWIRE_MAX_INFLIGHT", 512, "requests in flight on this node, all endpoints together")
	ef.Duration(&o.cfg.Delivery.DisableAfter, "disable-after", "SLOTWIRE_DISABLE_AFTER", 5*24*time.Hour, "disable an endpoint whose every attempt failed for this long")
	ef.Duration(&o.cfg.Delivery.DrainTimeout, "drain-timeout", "SLOTWIRE_DRAIN_TIMEOUT", 10*time.Second, "how long shutdown waits for requests in flight")
	ef.Bool(&o.cfg.AllowPrivateEndpoints, "allow-private-endpoints", "SLOTWIRE_ALLOW_PRIVATE_ENDPOINTS", false, "let endpoints resolve to loopback, private and link-local addresses")
	ef.group = groupTenants
	ef.String(&o.planTable, "plans", "SLOTWIRE_PLANS", plans.DefaultTable, "tenant plans and the endpoints each allows, plan=limit,… (0: no limit; \"unlimited\" is always there)")
	ef.Int(&o.cfg.MaxEndpointsPerTenant, "max-endpoints-per-tenant", "SLOTWIRE_MAX_ENDPOINTS_PER_TENANT", 100, "most endpoints one tenant may have (0: no cap)")
	ef.Int(&o.cfg.TenantEventsPerSecond, "tenant-events-per-second", "SLOTWIRE_TENANT_EVENTS_PER_SECOND", 0, "most events one tenant may publish per second on this node (0: no limit)")
	ef.Int(&o.maxEvent, "max-event-bytes", "SLOTWIRE_MAX_EVENT_BYTES", 256<<10, "largest accepted POST /v1/events body")
	ef.group = groupEmail
	ef.String(&o.cfg.SMTP.URL, "smtp-url", "SLOTWIRE_SMTP_URL", "", "SMTP server of e-mail endpoints, smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (empty: no e-mail endpoints)")
	ef.String(&o.cfg.SMTP.From, "smtp-from", "SLOTWIRE_SMTP_FROM", "", "sender of e-mails, e.g. \"Slotwire <noreply@example.com>\"; required with --smtp-url")
	ef.group = groupRetain
	ef.Duration(&o.cfg.Delivery.Retention, "retention", "SLOTWIRE_RETENTION", 60*24*time.Hour, "archive deliveries and events older than this: payloads, headers and bodies deleted (0: keep everything)")
	ef.Duration(&o.cfg.Delivery.DeleteAfter, "delete-after", "SLOTWIRE_DELETE_AFTER", 0, "delete archived deliveries and events older than this (0: never); at least --retention")
	ef.group = groupObserve
	ef.String(&o.logLevel, "log-level", "SLOTWIRE_LOG_LEVEL", "info", "debug, info, warn or error")
	ef.String(&o.logFormat, "log-format", "SLOTWIRE_LOG_FORMAT", "text", "text or json")
	ef.String(&o.cfg.MetricsAddr, "metrics-addr", "SLOTWIRE_METRICS_ADDR", "", "listen address of GET /metrics, Prometheus text format (empty: off); bind it privately")
	ef.String(&o.cfg.OTLPEndpoint, "otlp-endpoint", "SLOTWIRE_OTLP_ENDPOINT", "", "OTLP/HTTP collector to send traces to, e.g. http://127.0.0.1:4318 (empty: off)")
	ef.String(&o.debugAddr, "debug-addr", "SLOTWIRE_DEBUG_ADDR", "", "serve Go's pprof profiles on this address (off when empty)")
	return o
}

// run checks the flags and runs the node until ctx ends.
func (o *serveOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	cfg, err := o.config(stderr)
	if err != nil {
		return err
	}
	if o.debugAddr != "" {
		go serveDebug(o.debugAddr, cfg.Logger)
	}
	node, err := server.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "slotwire %s listening on %s (db %s)\n", version(), node.URL(), redactDSN(cfg.DB))
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	return node.Close()
}

// config checks the flags and returns the node's configuration, logging
// to stderr; it opens nothing.
func (o *serveOptions) config(stderr io.Writer) (server.Config, error) {
	if len(o.ef.errs) > 0 {
		return server.Config{}, fmt.Errorf("%s", strings.Join(o.ef.errs, "; "))
	}
	cfg := o.cfg
	log, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		return cfg, flagError(o.fs, "log-level", err)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return cfg, flagError(o.fs, "log-format", fmt.Errorf("log format %q: use text or json", o.logFormat))
	}
	if cfg.Role != server.RoleAll && cfg.Role != server.RoleAPI && cfg.Role != server.RoleWorker {
		return cfg, flagError(o.fs, "role", fmt.Errorf("role %q: use all, api or worker", cfg.Role))
	}
	cfg.Logger, cfg.SecretKey, cfg.MaxEventBytes, cfg.Delivery.Schedule = log, os.Getenv("SLOTWIRE_SECRET_KEY"), int64(o.maxEvent), o.schedule
	if cfg.Plans, err = plans.Parse(o.planTable); err != nil {
		return cfg, flagError(o.fs, "plans", err)
	}
	if err := checkRetention(&cfg.Delivery, log); err != nil {
		return cfg, flagError(o.fs, "retention", flagError(o.fs, "delete-after", err))
	}
	cfg.Migrate = !o.noMigrate && !isPostgres(cfg.DB)
	cfg.Extensions = extensions()
	cfg.Modules = modules()
	return cfg, nil
}

// flagError is a usage error when the flag was given on the command line;
// from its environment variable it stays a plain error.
func flagError(fs *flag.FlagSet, name string, err error) error {
	if errors.Is(err, errUsage) {
		return err
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	switch {
	case set && strings.HasPrefix(err.Error(), "--"):
		return usagef("%v", err)
	case set:
		return usagef("--%s: %v", name, err)
	}
	return err
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// redactDSN hides a password in a postgres URL.
func redactDSN(dsn string) string {
	if !isPostgres(dsn) {
		return dsn
	}
	at := strings.Index(dsn, "@")
	scheme := strings.Index(dsn, "://") + 3
	if at < 0 {
		return dsn
	}
	user := dsn[scheme:at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":***"
	}
	return dsn[:scheme] + user + dsn[at:]
}

// checkRetention refuses retention periods that make no sense, and warns
// when deliveries may expire before their retries are done.
func checkRetention(c *dispatch.Config, log *slog.Logger) error {
	switch {
	case c.Retention < 0 || c.DeleteAfter < 0:
		return errors.New("--retention and --delete-after must not be negative")
	case c.DeleteAfter > 0 && c.Retention > 0 && c.DeleteAfter < c.Retention:
		return fmt.Errorf("--delete-after (%s) must be at least --retention (%s): rows are archived before they are deleted",
			formatDuration(c.DeleteAfter), formatDuration(c.Retention))
	}
	var span time.Duration
	for _, d := range c.Schedule {
		span += d
	}
	if c.Retention > 0 && c.Retention < span {
		log.Warn("--retention is shorter than the retry schedule: deliveries still retrying when it ends fail as expired",
			"retention", c.Retention.String(), "retry_schedule_span", span.String())
	}
	return nil
}
