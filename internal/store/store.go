// Package store defines the storage interface of Slotwire. Every driver
// (sqlite, postgres) implements Store and passes the shared conformance
// suite in store/storetest, so callers never know which database they run on.
//
// The work queue is in the database: deliveries are claimed under a lease
// (owner + expiry), never by in-memory state alone, so several nodes can
// share one database and a node that dies has its claims taken over when the
// lease runs out.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
)

// Errors a store's operations may wrap, besides slotwire.ErrNotFound; both
// also carry a slotwire storage_unavailable error (the API answers 503).
var (
	// ErrFull: a write was refused because the database or its disk is
	// full. Ping probes writes until space returns.
	ErrFull = errors.New("storage is full")
	// ErrUnreachable: the database server cannot be reached right now.
	ErrUnreachable = errors.New("database unreachable")
	// ErrKeyRevoked: an API key that published events was revoked before
	// they were stored (RevokedKeysError wraps it).
	ErrKeyRevoked = errors.New("API key revoked")
	// ErrStale: an ingest batch's targets were computed from endpoints
	// that have changed since (IngestBatch.Versions); nothing was stored.
	ErrStale = errors.New("endpoints changed since the fan-out")
)

// The store is split by concern. Each interface below is small and has its
// own part of the conformance suite (store/storetest); a driver implements
// them all and says what else it can do in Capabilities.

// Tenants is the tenant and API-key half of the configuration store.
type Tenants interface {
	// CreateTenant stores a tenant together with its first API key.
	CreateTenant(ctx context.Context, t *slotwire.Tenant, key *slotwire.APIKey) error
	// GetTenant returns a tenant or an error wrapping slotwire.ErrNotFound.
	GetTenant(ctx context.Context, id string) (*slotwire.Tenant, error)
	// ListTenants returns tenants, oldest first.
	ListTenants(ctx context.Context) ([]*slotwire.Tenant, error)
	// UpdateTenant stores a tenant's name and plan.
	UpdateTenant(ctx context.Context, t *slotwire.Tenant) error
	// CreateAPIKey adds a key to an existing tenant.
	CreateAPIKey(ctx context.Context, key *slotwire.APIKey) error
	// KeyByHash returns the API key with that hash and its tenant, or an
	// error wrapping slotwire.ErrNotFound (revoked or never issued).
	KeyByHash(ctx context.Context, hash string) (*slotwire.APIKey, *slotwire.Tenant, error)
	// ListAPIKeys returns a tenant's keys, oldest first.
	ListAPIKeys(ctx context.Context, tenantID string) ([]*slotwire.APIKey, error)
	// DeleteAPIKey revokes a key: it stops working at once, and a batch
	// published with it that was not yet stored is refused
	// (RevokedKeysError).
	DeleteAPIKey(ctx context.Context, tenantID, id string) error
}

// Endpoints is the endpoint half of the configuration store.
type Endpoints interface {
	// SetFeedToken stores the hash of an endpoint's feed token ("" removes
	// it); not found when the tenant has no such endpoint.
	SetFeedToken(ctx context.Context, tenantID, endpointID, hash string) error
	// FeedTokenEndpoint finds the endpoint whose feed token has this hash.
	FeedTokenEndpoint(ctx context.Context, hash string) (tenantID, endpointID string, err error)
	CreateEndpoint(ctx context.Context, e *slotwire.Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, id string) (*slotwire.Endpoint, error)
	// ListEndpoints returns a tenant's endpoints newest first.
	ListEndpoints(ctx context.Context, tenantID string, p Page) ([]*slotwire.Endpoint, error)
	// CountEndpoints counts a tenant's endpoints.
	CountEndpoints(ctx context.Context, tenantID string) (int, error)
	// EnabledEndpoints returns every enabled endpoint of a tenant, ordered
	// by id: the candidates of the fan-out (internal/fanout).
	EnabledEndpoints(ctx context.Context, tenantID string) ([]*slotwire.Endpoint, error)
	// EndpointsVersion is the tenant's endpoint configuration version,
	// changed by every change of its endpoints that matters to delivery
	// (creation, deletion, any setting, enabling or disabling), not by
	// health bookkeeping.
	EndpointsVersion(ctx context.Context, tenantID string) (int64, error)
	// UpdateEndpoint replaces every stored field of the endpoint.
	UpdateEndpoint(ctx context.Context, e *slotwire.Endpoint) error
	// MarkVerified records that url echoed the endpoint's challenge, if the
	// endpoint still has that URL.
	MarkVerified(ctx context.Context, tenantID, id, url string) (bool, error)
	// DeleteEndpoint removes the endpoint, its deliveries and attempts.
	DeleteEndpoint(ctx context.Context, tenantID, id string) error
}

// EventTypes is the registry of tenants' own event types.
type EventTypes interface {
	// PutEventType registers a type, or registers again an archived one;
	// a type already registered is a conflict.
	PutEventType(ctx context.Context, t *slotwire.EventType) error
	// ListEventTypes returns a tenant's registered (not archived) types,
	// by type.
	ListEventTypes(ctx context.Context, tenantID string) ([]*slotwire.EventType, error)
	// ArchiveEventType archives a registered type.
	ArchiveEventType(ctx context.Context, tenantID, eventType string, now time.Time) error
}

// Config is the configuration store: tenants, keys, endpoints and event
// types.
type Config interface {
	Tenants
	Endpoints
	EventTypes
}

// Log is the read side of what happened: events, deliveries, attempts.
type Log interface {
	GetEvent(ctx context.Context, tenantID, id string) (*slotwire.Event, error)
	// ListEvents returns a tenant's events, newest first (without data).
	ListEvents(ctx context.Context, tenantID string, f EventFilter) ([]*slotwire.Event, error)
	// ListDeliveries returns deliveries newest first.
	ListDeliveries(ctx context.Context, tenantID string, f DeliveryFilter) ([]*slotwire.Delivery, error)
	GetDelivery(ctx context.Context, tenantID, id string) (*slotwire.Delivery, error)
	// ListAttempts returns a delivery's attempts, oldest first.
	ListAttempts(ctx context.Context, tenantID, deliveryID string) ([]*slotwire.Attempt, error)
	// DeliveryPayload returns the exact body sent for a delivery.
	DeliveryPayload(ctx context.Context, tenantID, deliveryID string) ([]byte, error)
	// Replay creates a new pending delivery of the same event to the same
	// endpoint, marked as a replay of deliveryID.
	Replay(ctx context.Context, tenantID, deliveryID, newID string, now time.Time) (*slotwire.Delivery, error)
	// Recover replays, in order, every failed delivery of an endpoint
	// created in [since, until) that has no replay yet, and returns how
	// many it queued.
	Recover(ctx context.Context, tenantID, endpointID string, since, until, now time.Time) (int, error)
	// Feed returns, oldest first, an endpoint's deliveries after the
	// delivery afterID ("" for the start) created before settled: the
	// events the endpoint was sent, without replays or filtered ones.
	Feed(ctx context.Context, tenantID, endpointID, afterID string, settled time.Time, limit int) ([]*slotwire.Delivery, error)
}

// Queue is the work queue: events enter it with their deliveries, which
// are claimed under a lease, completed or released.
type Queue interface {
	// Backlog reports the deliveries waiting to be sent (pending, due or
	// not) and when the oldest of them was created.
	Backlog(ctx context.Context) (Backlog, error)
	// Ingest stores a batch of events and their deliveries (one per
	// target the caller chose) in one transaction (group commit) and fills
	// in each item's results. It calls nothing back: the batch is plain
	// values.
	Ingest(ctx context.Context, b *IngestBatch) error
	// DueEndpoints lists the enabled endpoints that have pending deliveries,
	// with the time the earliest one is due.
	DueEndpoints(ctx context.Context) ([]DueEndpoint, error)
	// Claim leases due pending deliveries of one endpoint to an owner.
	Claim(ctx context.Context, r ClaimRequest) ([]*Job, error)
	// Complete records attempts and their outcomes in one transaction and
	// reports endpoints that were disabled or recovered by them.
	Complete(ctx context.Context, b CompleteBatch) ([]EndpointTransition, error)
	// Release puts deliveries leased by owner back to pending, due now. With
	// no ids it releases every lease the owner holds (used at start-up and
	// shut-down).
	Release(ctx context.Context, owner string, ids []string, now time.Time) (int, error)
	// PendingCount counts an endpoint's pending deliveries, up to limit.
	PendingCount(ctx context.Context, endpointID string, limit int) (int, error)
	// ReclaimExpired returns to pending every inflight delivery whose lease
	// ended before now.
	ReclaimExpired(ctx context.Context, now time.Time) (int, error)
}

// Slots are the per-endpoint send slots that make an endpoint's limits hold
// across nodes.
type Slots interface {
	// AcquireSlots renews the endpoint send slots owner holds and leases
	// free or expired ones until it holds want of the endpoint's max
	// slots (giving back any above want); it returns how many it holds.
	AcquireSlots(ctx context.Context, endpointID, owner string, want, max int, now, until time.Time) (int, error)
	// ReleaseSlots gives back every slot owner holds on the endpoint.
	ReleaseSlots(ctx context.Context, endpointID, owner string) error
}

// Capabilities says what a driver can do beyond the interfaces every
// driver implements. Callers read it instead of probing the driver's type.
type Capabilities struct {
	// MultiNode: several nodes may share this database, so limits that
	// must hold across nodes (send slots) are taken from the store.
	MultiNode bool
	// Notifier tells other nodes about new work; nil: every node polls.
	Notifier Notifier
	// Locker elects one node for periodic work; nil: this node is alone
	// and always elected.
	Locker Locker
}

// Erasures removes a person's personal data from what the store and its
// modules keep, and keeps the record of each erasure (never the person's
// data).
type Erasures interface {
	// Erase runs one erasure of e.TenantID's data about p in one
	// transaction: the modules' erasers first (they may add to p what
	// they know of the person, such as a customer's stored address), then
	// the events, attempts and deliveries that hold the person's data,
	// then the record e with its counts filled in. After the commit the
	// driver removes what old row versions it can from its files
	// (Purge).
	Erase(ctx context.Context, e *slotwire.Erasure, p *erasure.Person, erasers []Eraser) error
	// ListErasures returns a tenant's erasure records, newest first.
	ListErasures(ctx context.Context, tenantID string, p Page) ([]*slotwire.Erasure, error)
}

// Eraser is a module's part of an erasure, run in the erasure's
// transaction. Erase rewrites the module's rows about the person p (adding
// to p the addresses and ids it finds for them) and returns how many rows
// of each kind it changed ("customers": 1); it emits no events. Tables
// lists every table it may change, for the driver's clean-up after the
// commit.
type Eraser struct {
	Name   string
	Tables []string
	Erase  func(ctx context.Context, tx WriteTx, tenantID string, p *erasure.Person) (map[string]int, error)
}

// Session kinds of the web dashboard.
const (
	SessionKey      = "key"      // opened by signing in with a tenant API key
	SessionPortal   = "portal"   // opened from a portal link (POST /v1/portal-sessions)
	SessionOperator = "operator" // opened by signing in with the admin token
)

// Session is a web dashboard session. Hash is the SHA-256 of the token the
// browser holds (a portal link's token until the link is opened); the token
// is never stored.
type Session struct {
	Hash     string
	TenantID string // "" for an operator's session
	// APIKeyID is the key a tenant's session acts with (revoking the key
	// ends the session), or a digest of the admin token an operator's was
	// opened with.
	APIKeyID string
	Kind     string
	// Scopes narrow the key's scopes (none: the key's own).
	Scopes []string
	// Opened is false for a portal link nobody has opened yet.
	Opened    bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Sessions keeps the web dashboard's sessions, so any node serving the
// dashboard knows them and signing out ends a session everywhere.
type Sessions interface {
	// CreateSession stores a session (deleting expired ones on the way).
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns an opened session that has not expired, or an
	// error wrapping slotwire.ErrNotFound.
	SessionByHash(ctx context.Context, hash string, now time.Time) (*Session, error)
	// OpenPortalLink opens the unopened, unexpired portal link whose token
	// hashes to linkHash, once: the session is found by sessionHash from
	// then on. A link opened before, expired or unknown is not found.
	OpenPortalLink(ctx context.Context, linkHash, sessionHash string, now time.Time) (*Session, error)
	// DeleteSession ends a session (signing out); ending one that is gone
	// is not an error.
	DeleteSession(ctx context.Context, hash string) error
}

// Store is everything Slotwire keeps.
type Store interface {
	Config
	Log
	Queue
	Slots
	Stats
	Retention
	Transactor
	Erasures
	Sessions
	Nodes
	Figures
	// Capabilities says what else the driver can do.
	Capabilities() Capabilities
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Page selects a page of a newest-first listing: items with an id lower
// than Before (when set), at most Limit of them.
type Page struct {
	Before string
	Limit  int
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	EndpointID string // optional: the tenant's deliveries to every endpoint
	// Status is a delivery status, or StatusRetrying (pending after at
	// least one attempt); optional.
	Status string
	// StatusClass is the class of the last attempt's answer: "2xx",
	// "4xx", "5xx" or "network" (no answer); optional.
	StatusClass string
	EventID     string // optional
	// EventType is a type, or a prefix pattern such as "appointment.*".
	EventType    string
	Since, Until time.Time // created in [Since, Until); zero: open
	Page
}

// StatusRetrying selects pending deliveries that were tried at least once.
const StatusRetrying = "retrying"

// StatusArchived selects deliveries the retention job archived (whatever
// their status).
const StatusArchived = "archived"

// EventFilter selects a tenant's events: by type (or prefix pattern) and
// creation time, newest first.
type EventFilter struct {
	Type         string
	Since, Until time.Time
	Page
}

// Target is one delivery to create for an event: the endpoint, and whether
// the delivery is created already leased to the batch's Owner (the
// dispatcher reserved room for it) or pending in the queue.
type Target struct {
	Endpoint *slotwire.Endpoint
	Leased   bool
}

// RevokedKeysError says which API keys (by hash) of an ingest batch no
// longer exist; nothing of the batch was stored.
type RevokedKeysError struct{ Hashes []string }

func (e *RevokedKeysError) Error() string {
	return fmt.Sprintf("%d API key(s) revoked: nothing stored", len(e.Hashes))
}

// Unwrap makes errors.Is(err, ErrKeyRevoked) hold.
func (e *RevokedKeysError) Unwrap() error { return ErrKeyRevoked }

// IngestItem is one event of a batch. The caller fills Event (ID,
// TenantID, Type, Data, IdempotencyKey, CreatedAt, Payload) and Targets
// (the fan-out, decided before the transaction); Ingest fills the results.
type IngestItem struct {
	Event   *slotwire.Event
	Targets []Target
	// KeyHash is the hash of the API key that published the event, if
	// any: the batch is refused (RevokedKeysError) when that key no
	// longer exists.
	KeyHash string

	// Duplicate is set when the idempotency key was seen within the
	// window; Event.ID is then the first event's id and nothing is stored.
	Duplicate bool
	// Deliveries counts the deliveries created. A target whose endpoint was
	// deleted or disabled since the fan-out gets none.
	Deliveries int
	// Jobs are the deliveries created from Leased targets, leased to the
	// batch's Owner until LeaseUntil, ready to send without a claim.
	Jobs []*Job
}

// IngestBatch is a group of events committed together.
type IngestBatch struct {
	Items []*IngestItem
	Now   time.Time
	// IdempotencyWindow is how long an idempotency key is remembered.
	IdempotencyWindow time.Duration
	// Owner and LeaseUntil are the lease of deliveries of Leased targets.
	Owner      string
	LeaseUntil time.Time
	// Versions, when set, are the endpoint configuration versions (by
	// tenant) the targets were computed from, read from a cache: if a
	// tenant's endpoints changed since, Ingest stores nothing and returns
	// an error wrapping ErrStale, and the caller fans out again.
	Versions map[string]int64
}

// DueEndpoint is an endpoint with pending work.
type DueEndpoint struct {
	EndpointID string
	NextAt     time.Time
}

// ClaimRequest asks for up to Limit due deliveries of one endpoint.
type ClaimRequest struct {
	EndpointID string
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	// FIFO claims only the endpoint's oldest unfinished delivery, and only
	// when it is pending and due: nothing when it is in flight elsewhere or
	// waiting for a retry. An endpoint whose ordering is "fifo" is always
	// claimed this way, whatever FIFO says.
	FIFO bool
}

// Job is a leased delivery with what is needed to send it.
type Job struct {
	Delivery slotwire.Delivery
	Endpoint slotwire.Endpoint
	Payload  []byte
	// Trace is the span context of the publish that created the job, set
	// in memory by the ingester when tracing is on (internal/tracing); nil
	// when it is off and for a job claimed from the database. A pointer,
	// shared by the jobs of one publish: 8 bytes of a job when off.
	Trace *trace.SpanContext
}

// Outcome is the result of one attempt.
type Outcome struct {
	DeliveryID string
	EndpointID string
	Owner      string
	// TenantID, CreatedAt (of the delivery) and Prior (its attempts before
	// this one) place the outcome in the statistics.
	TenantID  string
	CreatedAt time.Time
	Prior     int
	Attempt   slotwire.Attempt
	// Status is StatusSucceeded, StatusPending (retry at NextAttemptAt),
	// StatusFailed or StatusFiltered.
	Status        string
	NextAttemptAt time.Time
	// DisableReason, when set, disables the endpoint (e.g. 410 Gone).
	DisableReason string
	// NoContact: no request was made (the endpoint's filter or transform
	// decided); the outcome says nothing of the receiver's health.
	NoContact bool
}

// Transition kinds.
const (
	TransitionDisabled  = "disabled"
	TransitionRecovered = "recovered"
	TransitionDeleted   = "deleted"
)

// EndpointTransition reports an endpoint that Complete disabled, or that
// succeeded after a run of failures.
type EndpointTransition struct {
	EndpointID string
	TenantID   string
	Kind       string
	Reason     string
	At         time.Time
}

// Module is a part of Slotwire with tables of its own (the scheduling
// core): the store applies its migrations, numbered on their own, next to
// the core's. Migrations holds NNNN_name.sql files under a folder named
// for the dialect ("sqlite", "postgres") or "common" for both.
type Module struct {
	Name       string
	Migrations fs.FS
}

// CoreModule names the store's own migrations.
const CoreModule = "core"

// SchemaError is returned when a module's schema in the database is not
// the version this binary expects.
type SchemaError struct {
	Module     string
	Have, Want int
}

func (e *SchemaError) Error() string {
	what := "database schema"
	if e.Module != "" && e.Module != CoreModule {
		what = "database schema of module " + e.Module
	}
	if e.Have > e.Want {
		return fmt.Sprintf("%s version %d is newer than this binary supports (%d): upgrade slotwire", what, e.Have, e.Want)
	}
	return fmt.Sprintf("%s version %d is older than this binary expects (%d): run `slotwire migrate`", what, e.Have, e.Want)
}

// Backlog is the work queue's size (metrics show it).
type Backlog struct {
	Pending int
	// Oldest is the creation time of the oldest pending delivery (zero
	// when none is).
	Oldest time.Time
}
