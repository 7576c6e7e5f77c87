// Package server wires one Slotwire node: it opens the store, starts the
// ingester, the dispatcher and the HTTP API, and stops them in order. The
// slotwire command, the benchmark and the integration tests all start nodes
// through it (tests on port 0).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/dashboard"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/heartbeat"
	"github.com/slotwire/slotwire/internal/httpmw"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/mail"
	"github.com/slotwire/slotwire/internal/metrics"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/secrets"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
	"github.com/slotwire/slotwire/internal/tracing"
)

// Roles of a node.
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
)

// Config of a node. Zero values take the documented defaults.
type Config struct {
	Addr string // default 127.0.0.1:8080; ":0" picks a port
	// PublicURL is the address users reach the server at, for the links
	// it hands out (portal sessions); "" takes each request's host.
	PublicURL string
	// NoDashboard: the web dashboard is not served at /.
	NoDashboard bool
	// MetricsAddr, when set, serves GET /metrics (Prometheus text format)
	// on its own listener, so operators can bind it privately.
	MetricsAddr string
	// OTLPEndpoint, when set, sends traces of publishes, commits and
	// attempts to this OTLP/HTTP collector (internal/tracing).
	OTLPEndpoint string
	DB           string // SQLite path (default ./slotwire.db) or postgres:// URL
	AdminToken   string
	// AllowPrivateEndpoints lets endpoints reach loopback and private
	// addresses.
	AllowPrivateEndpoints bool
	MaxEventBytes         int64
	// SecretKey (standard base64 of 32 bytes) or SecretKeyFile encrypts
	// the secrets stored; default on SQLite: slotwire.key beside the
	// database, created on first start.
	SecretKey, SecretKeyFile string
	// MaxEndpointsPerTenant caps a tenant's endpoints (0: no cap).
	MaxEndpointsPerTenant int
	// Plans are the tenant plans (default plans.DefaultTable).
	Plans plans.Table
	// TenantEventsPerSecond limits each tenant's publishing on this node
	// (0: none).
	TenantEventsPerSecond int
	Role                  string
	NodeID                string
	// HeartbeatInterval is how often the node writes its row in the
	// registry of nodes (GET /v1/nodes; default 10 s).
	HeartbeatInterval time.Duration
	// Migrate applies migrations at start (the default for SQLite).
	Migrate           bool
	SQLiteSynchronous string

	Delivery dispatch.Config // Store, Logger, Guard, Owner, Mail are set here
	// SMTP is the server e-mail endpoints are delivered through (URL
	// empty: none; creating one answers 400 smtp_not_configured). Its
	// session is bounded by Delivery.Timeout.
	SMTP mail.Config

	Logger *slog.Logger
	// Modules are the extensions' migration sets, applied and checked by
	// the store.
	Modules []store.Module
	// Extensions register more routes and start more services once the
	// store is open (the scheduling core uses it).
	Extensions []Extension
}

// Extension adds to a node once its parts exist.
type Extension func(n *Node) error

// Node is a running Slotwire node.
type Node struct {
	Config     Config
	Store      store.Store
	API        *api.Server
	Ingester   *ingest.Ingester
	Dispatcher *dispatch.Dispatcher
	// Heartbeat keeps the node's row in the registry of nodes.
	Heartbeat *heartbeat.Service
	Log       *slog.Logger

	ln   net.Listener
	http *http.Server
	// Metrics of this node, served on Config.MetricsAddr.
	Metrics     *metrics.Metrics
	metricsHTTP *http.Server
	metricsLn   net.Listener
	// Tracing is the tracer provider (nil when --otlp-endpoint is empty).
	Tracing *tracing.Provider
	// Mail sends through the node's SMTP server (nil when --smtp-url is
	// empty): e-mail endpoints' deliveries, and a module's own e-mails.
	Mail *mail.Sender
	// Box seals the secrets the node stores (modules seal theirs with it).
	Box *secrets.Box
	// Validators added by extensions for catalog event types.
	validators []api.EventValidator
	// Samplers added by extensions give event type examples.
	samplers []api.SampleSource
	// Catalogs added by extensions: their built-in event types.
	catalogs []api.Catalog
	// Erasers added by extensions: their parts of an erasure.
	erasers []store.Eraser
	// Scopes of API keys; extensions add theirs.
	Scopes      *scopes.Set
	stoppers    []func()
	offsetHooks []func(ctx context.Context, tenantID string) error
}

// StoreOptions configure OpenStore.
type StoreOptions struct {
	Migrate bool
	// SQLiteSynchronous is SQLite's synchronous pragma ("" for FULL).
	SQLiteSynchronous string
	Logger            *slog.Logger
	// Modules whose migrations the store applies and checks (the
	// scheduling core's).
	Modules []store.Module
	// Box seals stored secrets (nil: plaintext; only for tools that never
	// read or write endpoints).
	Box *secrets.Box
}

// OpenStore opens the store named by dsn.
func OpenStore(ctx context.Context, dsn string, o StoreOptions) (store.Store, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn, o)
	}
	st, err := sqlite.Open(ctx, dsn, sqlite.Options{Migrate: o.Migrate, Synchronous: o.SQLiteSynchronous, Logger: o.Logger,
		Modules: o.Modules, Box: o.Box})
	if err == nil {
		restrictDBFile(dsn) // every command that opens it, not only serve
	}
	return st, err
}

// openPostgres opens the PostgreSQL driver (see postgres.go).
var openPostgres func(ctx context.Context, dsn string, o StoreOptions) (store.Store, error)

// Start opens everything and starts serving; it returns once the listener
// is open.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	n := &Node{Config: cfg, Log: cfg.Logger}
	if n.Mail, err = newMail(cfg); err != nil {
		return nil, err
	}
	box, err := secretBox(cfg)
	if err != nil {
		return nil, err
	}
	n.Box = box
	st, err := OpenStore(ctx, cfg.DB, StoreOptions{Migrate: cfg.Migrate, SQLiteSynchronous: cfg.SQLiteSynchronous,
		Logger: cfg.Logger, Modules: cfg.Modules, Box: box})
	if err != nil {
		return nil, err
	}
	n.Store = st
	n.Tracing, err = tracing.New(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint, NodeID: cfg.NodeID,
		Version: slotwire.Version, Logger: cfg.Logger.With("component", "tracing")})
	if err != nil {
		st.Close()
		return nil, err
	}
	n.build()
	for _, ext := range cfg.Extensions {
		if err := ext(n); err != nil {
			n.closeStore()
			return nil, err
		}
	}
	n.Ingester.Start(ctx)
	if n.Dispatcher != nil {
		if err := n.Dispatcher.Start(ctx); err != nil {
			n.Ingester.Stop()
			n.closeStore()
			return nil, fmt.Errorf("start dispatcher: %w", err)
		}
	}
	n.Heartbeat.Start(ctx)
	if err := n.serveMetrics(); err != nil {
		n.stopServices()
		return nil, err
	}
	if cfg.Role != RoleWorker {
		if err := n.serveHTTP(); err != nil {
			n.stopServices()
			return nil, err
		}
	}
	cfg.Logger.Info("slotwire started", "addr", n.Addr(), "role", cfg.Role, "node", cfg.NodeID, "version", slotwire.Version)
	return n, nil
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.DB == "" {
		cfg.DB = "./slotwire.db"
	}
	if cfg.Role == "" {
		cfg.Role = RoleAll
	}
	if cfg.Role != RoleAll && cfg.Role != RoleAPI && cfg.Role != RoleWorker {
		return cfg, fmt.Errorf("role must be all, api or worker, not %q", cfg.Role)
	}
	if cfg.OTLPEndpoint != "" {
		if _, err := tracing.TracesURL(cfg.OTLPEndpoint); err != nil {
			return cfg, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Every line logged while serving a request carries its request id.
	cfg.Logger = slog.New(httpmw.LogHandler{Handler: cfg.Logger.Handler()})
	if cfg.NodeID == "" {
		host, _ := os.Hostname()
		cfg.NodeID = host + "/" + cfg.Addr
	}
	return cfg, nil
}

// build makes the services of the node's role on its store.
func (n *Node) build() {
	cfg, st := n.Config, n.Store
	n.Metrics = metrics.New(metrics.Sources{Backlog: st.Backlog, InFlight: n.inFlight, Logger: cfg.Logger, Now: time.Now})
	guard := &netguard.Guard{AllowPrivate: cfg.AllowPrivateEndpoints}
	if cfg.Role != RoleAPI {
		dc := cfg.Delivery
		dc.Store, dc.Logger, dc.Guard, dc.Owner = st, cfg.Logger.With("component", "dispatch"), guard, cfg.NodeID
		dc.OnTransition = n.emitTransition
		dc.Observe = n.Metrics.Observe
		dc.OnRetention = n.Metrics.Retention
		dc.Tracer, dc.Mail = n.Tracing.Tracer(), n.Mail
		// Several nodes may share a PostgreSQL database: bound endpoints
		// across all of them.
		dc.SharedLimits = dc.SharedLimits || st.Capabilities().MultiNode
		n.Dispatcher = dispatch.New(dc)
	}
	ic := ingest.Config{Store: st, Logger: cfg.Logger.With("component", "ingest"), OnStored: n.Metrics.Ingested,
		Tracer: n.Tracing.Tracer()}
	ic.Dispatcher = n.Dispatcher // nil on API-only nodes: ingest notifies the workers through the store
	n.Ingester = ingest.New(ic)
	n.Heartbeat = heartbeat.New(heartbeat.Config{Store: st, Interval: cfg.HeartbeatInterval, InFlight: n.inFlight,
		Node:   store.NodeInfo{ID: cfg.NodeID, Role: cfg.Role, Version: slotwire.Version},
		Logger: cfg.Logger.With("component", "heartbeat")})
	n.Scopes = scopes.New()
	n.API = api.New(api.Config{
		Store: st, Publisher: n.Ingester, Waker: n, Guard: guard, Logger: cfg.Logger.With("component", "api"),
		AdminToken: cfg.AdminToken, NodeInterval: n.Heartbeat.Interval(), MaxEventBytes: cfg.MaxEventBytes, ValidateEvent: n.validateEvent,
		MaxEndpointsPerTenant: cfg.MaxEndpointsPerTenant, TenantEventsPerSecond: cfg.TenantEventsPerSecond, Plans: cfg.Plans, Scopes: n.Scopes, Sample: n.sample,
		Catalogs: func() []api.Catalog { return n.catalogs }, Tracer: n.Tracing.Tracer(), SMTP: n.Mail != nil,
		Erasers:        func() []store.Eraser { return n.erasers },
		OffsetsChanged: n.offsetsChanged, PublicURL: cfg.PublicURL,
		Tester: dispatch.NewTester(dispatch.Config{Guard: guard, Timeout: cfg.Delivery.Timeout, Transport: cfg.Delivery.Transport,
			Mail: n.Mail}),
	})
}

// newMail is the node's SMTP client, when a server is configured; its
// sessions are bounded like requests (--delivery-timeout, default 15 s).
func newMail(cfg Config) (*mail.Sender, error) {
	if cfg.SMTP.URL == "" {
		return nil, nil
	}
	mc := cfg.SMTP
	if mc.Timeout <= 0 {
		mc.Timeout = cfg.Delivery.Timeout
	}
	if mc.Timeout <= 0 {
		mc.Timeout = 15 * time.Second
	}
	m, err := mail.New(mc)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("e-mail endpoints on", "smtp", m.Server().Redacted())
	return m, nil
}

// handler is what the HTTP listener serves: the API under /v1/ (and
// /healthz, /openapi.json), the web dashboard on every other path unless
// it is off.
func (n *Node) handler() (http.Handler, error) {
	if n.Config.NoDashboard {
		return n.API, nil
	}
	dash, err := dashboard.New(dashboard.Config{API: n.API, Sessions: n.Store,
		Logger: n.Config.Logger.With("component", "dashboard")})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/v1/") || p == "/v1" || p == "/healthz" || p == "/openapi.json" {
			n.API.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	}), nil
}

// serveHTTP opens the listener and serves the API behind the middleware.
func (n *Node) serveHTTP() error {
	ln, err := net.Listen("tcp", n.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", n.Config.Addr, err)
	}
	n.ln = ln
	log := n.Config.Logger
	handler, err := n.handler()
	if err != nil {
		ln.Close()
		return err
	}
	n.http = &http.Server{Handler: httpmw.Wrap(handler, log.With("component", "http")),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		// A route that streams for longer extends its own deadline with
		// http.ResponseController.
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	n.http.RegisterOnShutdown(n.API.EndWaits) // long polls of the feed answer at once
	go func() {
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	return nil
}

func (n *Node) inFlight() int {
	if n.Dispatcher == nil {
		return 0
	}
	return n.Dispatcher.InFlight()
}

// serveMetrics serves GET /metrics on Config.MetricsAddr, when set.
func (n *Node) serveMetrics() error {
	if n.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (metrics): %w", n.Config.MetricsAddr, err)
	}
	n.metricsLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.Metrics.Handler())
	n.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(n.Config.Logger.Handler(), slog.LevelWarn)}
	go func() { _ = n.metricsHTTP.Serve(ln) }()
	n.Config.Logger.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr is the address /metrics is served on ("" when off).
func (n *Node) MetricsAddr() string {
	if n.metricsLn == nil {
		return ""
	}
	return n.metricsLn.Addr().String()
}

// Addr is the address the API listens on ("" for worker nodes).
func (n *Node) Addr() string {
	if n.ln == nil {
		return ""
	}
	return n.ln.Addr().String()
}

// URL is the API's base URL.
func (n *Node) URL() string { return "http://" + n.Addr() }

// Wake tells the dispatcher (here or, through the store, on other nodes)
// about endpoints with new pending work.
func (n *Node) Wake(ids ...string) {
	if n.Dispatcher != nil {
		n.Dispatcher.Wake(ids...)
	} else if nt := n.Store.Capabilities().Notifier; nt != nil {
		_ = nt.NotifyWork(context.Background(), ids)
	}
}

// AddCatalog adds a module's built-in event types (GET /v1/event-types).
func (n *Node) AddCatalog(c api.Catalog) { n.catalogs = append(n.catalogs, c) }

// AddSampler adds a source of event type examples (GET /v1/hooks/sample).
func (n *Node) AddSampler(f api.SampleSource) { n.samplers = append(n.samplers, f) }

func (n *Node) sample(eventType string) (json.RawMessage, bool) {
	for _, f := range n.samplers {
		if ex, ok := f(eventType); ok {
			return ex, true
		}
	}
	return nil, false
}

// AddEraser adds a module's part of an erasure (POST /v1/erasures).
func (n *Node) AddEraser(e store.Eraser) { n.erasers = append(n.erasers, e) }

// AddValidator adds a catalog validator for POST /v1/events.
func (n *Node) AddValidator(v api.EventValidator) { n.validators = append(n.validators, v) }

// OnOffsetsChanged registers a function told when a tenant's endpoint
// offsets changed (the scheduling core moves its timers).
func (n *Node) OnOffsetsChanged(f func(ctx context.Context, tenantID string) error) {
	n.offsetHooks = append(n.offsetHooks, f)
}

func (n *Node) offsetsChanged(ctx context.Context, tenantID string) {
	for _, f := range n.offsetHooks {
		if err := f(ctx, tenantID); err != nil {
			n.Log.Error("endpoint offsets changed", "tenant", tenantID, "err", err)
		}
	}
}

// OnStop registers a function run at shutdown before the store closes.
func (n *Node) OnStop(f func()) { n.stoppers = append(n.stoppers, f) }

func (n *Node) validateEvent(t string, data []byte) error {
	for _, v := range n.validators {
		if err := v(t, data); err != nil {
			return err
		}
	}
	return nil
}

// emitTransition publishes endpoint.disabled / .recovered / .deleted as a
// tenant-level event, deliverable to the tenant's own endpoints.
func (n *Node) emitTransition(t store.EndpointTransition) {
	go func() {
		data := fmt.Sprintf(`{"endpoint_id":%q,"reason":%q,"at":%q}`, t.EndpointID, t.Reason, t.At.Format(time.RFC3339Nano))
		e := &slotwire.Event{TenantID: t.TenantID, Type: "endpoint." + t.Kind, Data: []byte(data), OrderingKey: t.EndpointID}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := n.Ingester.Publish(ctx, e); err != nil {
			n.Log.Error("publishing endpoint event", "type", e.Type, "err", err)
		}
	}()
}

// Close shuts the node down: stop accepting requests, finish those in
// flight, commit queued events, drain deliveries (bounded), close the store.
func (n *Node) Close() error {
	if n.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_ = n.http.Shutdown(ctx)
		cancel()
	}
	n.stopServices()
	n.Log.Info("slotwire stopped")
	return nil
}

func (n *Node) stopServices() {
	if n.metricsHTTP != nil {
		_ = n.metricsHTTP.Close()
	}
	for i := len(n.stoppers) - 1; i >= 0; i-- {
		n.stoppers[i]()
	}
	// The ingester first: its last commits hand their leased jobs to a
	// dispatcher that still runs, which then drains and releases them.
	n.Ingester.Stop()
	if n.Dispatcher != nil {
		n.Dispatcher.Stop()
	}
	// Last: the node is listed while it drains.
	n.Heartbeat.Stop()
	n.closeStore()
}

// closeStore closes the store, then sends the spans still buffered (at
// most 5 s): every service that makes spans has stopped.
func (n *Node) closeStore() {
	n.Store.Close()
	if err := n.Tracing.Close(); err != nil {
		n.Log.Warn("flushing traces", "err", err)
	}
}
