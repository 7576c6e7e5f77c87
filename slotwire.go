// Package slotwire holds the domain types of the Slotwire webhook engine:
// tenants, API keys, endpoints, events, deliveries and attempts, and the
// errors every other package speaks. It depends on nothing but the standard
// library; storage, HTTP and delivery live in packages around it.
package slotwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is reported in the User-Agent of every webhook request.
var Version = "0.1.0"

// Error codes used in API error bodies.
const (
	ECodeNotFound      = "not_found"
	ECodeInvalid       = "invalid_request"
	ECodeConflict      = "conflict"
	ECodeUnauthorized  = "unauthorized"
	ECodeForbidden     = "forbidden"
	ECodeTooLarge      = "payload_too_large"
	ECodeInternal      = "internal"
	ECodeUnprocessable = "unprocessable"
	// ECodeEndpointLimit: the tenant has as many endpoints as the node allows.
	ECodeEndpointLimit = "endpoint_limit"
	// ECodeMissingScope: the API key lacks the scope a request needs.
	ECodeMissingScope = "missing_scope"
	// ECodePlanLimit: the tenant's plan allows no more of something.
	ECodePlanLimit = "plan_limit"
	// ECodeRateLimited: the tenant publishes faster than the node allows.
	ECodeRateLimited = "rate_limited"
	// ECodeStorageUnavailable: the database cannot take writes (disk full).
	ECodeStorageUnavailable = "storage_unavailable"
	// ECodeArchived: the delivery was archived by the retention job; its
	// payload is gone (410).
	ECodeArchived = "archived"
	// ECodeSMTPNotConfigured: an e-mail endpoint needs the node's SMTP
	// server (--smtp-url), and none is configured (400).
	ECodeSMTPNotConfigured = "smtp_not_configured"
)

// ArchivedError says that a delivery's payload was deleted by the
// retention job at archived.
func ArchivedError(id string, archived time.Time) *Error {
	return Errorf(ECodeArchived, "delivery %s was archived on %s: its payload was deleted after the retention period",
		id, archived.UTC().Format(time.RFC3339))
}

// Error is an application error with a machine-readable code and a message
// that is safe to show to the API caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned (wrapped) by stores when a row does not exist or
// belongs to another tenant.
var ErrNotFound = &Error{Code: ECodeNotFound, Message: "not found"}

// ErrorCode returns the code of the first *Error in err's chain, or
// ECodeInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}

// ErrorMessage returns the caller-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Tenant is a company using Slotwire. Every other object belongs to one.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Plan string `json:"plan"`
	// StrictEventTypes: only registered (or catalog) event types may be
	// published or subscribed to.
	StrictEventTypes bool      `json:"strict_event_types"`
	CreatedAt        time.Time `json:"created_at"`
}

// EventType is one of a tenant's own event types: registered with a
// description, and optionally the JSON Schema its data must match and an
// example.
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
	TenantID    string          `json:"-"`
	CreatedAt   time.Time       `json:"created_at"`
}

// APIKey authenticates a tenant. Only the SHA-256 hash of the secret is stored.
type APIKey struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Hash     string `json:"-"`
	Prefix   string `json:"prefix"`
	// Name says what the key is for ("zapier").
	Name string `json:"name"`
	// Last4 are the key's last four characters, to tell keys apart.
	Last4 string `json:"last4"`
	// Scopes are what the key may do (ScopeAdmin: everything).
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
}

// ScopeAdmin lets a key do everything its tenant may, keys and settings
// included; the key a tenant is created with has it.
const ScopeAdmin = "admin"

// Ordering values of an endpoint.
const (
	OrderingNone = ""
	OrderingFIFO = "fifo"
	// OrderingKey sends deliveries with the same ordering key one at a
	// time, in publish order, and different keys in parallel.
	OrderingKey = "key"
)

// MaxOrderingKey is the longest ordering key, in bytes.
const MaxOrderingKey = 256

// Endpoint types: a URL receiving signed POSTs, an address receiving
// e-mails with the signed payload attached, or a pull endpoint whose
// receiver reads its feed (GET /v1/endpoints/{id}/feed) and is never sent
// anything.
const (
	EndpointHTTP  = "http"
	EndpointEmail = "email"
	EndpointPull  = "pull"
)

// Endpoint is a receiver subscribed to some event types.
type Endpoint struct {
	ID       string `json:"id"`
	TenantID string `json:"-"`
	// Type is EndpointHTTP (URL), EndpointEmail (Email) or EndpointPull
	// (neither: read through the feed); "" reads as EndpointHTTP.
	Type           string            `json:"type"`
	URL            string            `json:"url,omitempty"`
	Email          string            `json:"email,omitempty"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"`
	Enabled        bool              `json:"enabled"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	Headers        map[string]string `json:"headers"`
	Secret         string            `json:"-"`
	// MaxConcurrency bounds the requests in flight to this endpoint (0: default).
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// Ordering is "" (unordered), "fifo" (one at a time, in publish order)
	// or "key" (one at a time per event ordering key).
	Ordering string `json:"ordering,omitempty"`
	// RateLimit is the most requests a second sent to this endpoint (0: none).
	RateLimit int `json:"rate_limit_per_second,omitempty"`
	// SourceApps and SourceTypes, when not empty, restrict the endpoint to
	// events whose source has one of those apps / types.
	SourceApps  []string `json:"source_apps,omitempty"`
	SourceTypes []string `json:"source_types,omitempty"`
	// PayloadFormat is the shape of the body sent: "" or "nested" (the
	// event as is), "flat" or "thin".
	PayloadFormat string `json:"payload_format,omitempty"`
	// RESTHook marks a subscription made through POST /v1/hooks: its
	// subscriber removes it, and a 410 from its target deletes it.
	RESTHook bool `json:"rest_hook,omitempty"`
	// PreviousSecret, after a rotation, also signs until
	// PreviousSecretUntil, so receivers can switch secrets without a gap.
	PreviousSecret      string     `json:"-"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	// SignatureProfile is how requests are signed ("": standard; see
	// package signature), SignatureHeader the header of the profiles that
	// name one ("": the profile's default).
	SignatureProfile string `json:"signature_profile,omitempty"`
	SignatureHeader  string `json:"signature_header,omitempty"`
	// Verify: the endpoint receives nothing until its URL echoed a
	// challenge; VerifiedURL is the URL that did, and PendingVerification
	// (derived) says the current URL has not.
	Verify              bool   `json:"verify,omitempty"`
	VerifiedURL         string `json:"-"`
	PendingVerification bool   `json:"pending_verification,omitempty"`
	// Filter and Transform are jq expressions: the filter must be truthy
	// for an event to be sent, the transform makes the body ("": none).
	Filter    string `json:"filter,omitempty"`
	Transform string `json:"transform,omitempty"`
	// Offset, a Go duration such as "-15m", picks the
	// appointment.starting and appointment.ended events fired that far from
	// the appointment's start or end ("" or "0s": the moment itself).
	Offset string `json:"offset,omitempty"`
	// Auth is how Slotwire authenticates to the receiver, TLS the custom
	// CA and client certificate of its connections (nil: none).
	Auth *EndpointAuth `json:"auth,omitempty"`
	TLS  *EndpointTLS  `json:"tls,omitempty"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Outgoing auth types of an endpoint.
const (
	AuthBasic  = "basic"
	AuthOAuth2 = "oauth2"
)

// EndpointAuth is how Slotwire authenticates to an endpoint's receiver:
// HTTP basic (Username, Password) or OAuth 2.0 client credentials
// (TokenURL, ClientID, ClientSecret, Scope; the token is cached until it
// expires and fetched again once on a 401).
type EndpointAuth struct {
	Type         string `json:"type"`
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	TokenURL     string `json:"token_url,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// EndpointTLS is the TLS of an endpoint's connections: a CA (PEM) its
// receiver's certificate is checked against besides the system's, and a
// client certificate with its key (PEM) for receivers that require one.
type EndpointTLS struct {
	CACert     string `json:"ca_cert,omitempty"`
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`
}

// Payload formats of an endpoint.
const (
	FormatNested = "nested"
	FormatFlat   = "flat"
	FormatThin   = "thin"
)

// EventSource is where an event comes from: the back-office app and the
// kind of record, as Dime.Scheduler connectors route by.
type EventSource struct {
	App  string `json:"app,omitempty"`
	Type string `json:"type,omitempty"`
}

// AcceptsSource reports whether the endpoint's source filters let an
// event with source s through: an empty filter accepts anything, a set
// one needs a source with a listed value.
func (e *Endpoint) AcceptsSource(s *EventSource) bool {
	return matchesSource(e.SourceApps, s, func(s *EventSource) string { return s.App }) &&
		matchesSource(e.SourceTypes, s, func(s *EventSource) string { return s.Type })
}

func matchesSource(allowed []string, s *EventSource, field func(*EventSource) string) bool {
	if len(allowed) == 0 {
		return true
	}
	if s == nil {
		return false
	}
	for _, a := range allowed {
		if a == field(s) {
			return true
		}
	}
	return false
}

// IsEmail reports whether the endpoint receives e-mails rather than
// requests.
func (e *Endpoint) IsEmail() bool { return e.Type == EndpointEmail }

// IsPull reports whether the endpoint's receiver pulls its deliveries
// from the feed: the dispatcher never sends them.
func (e *Endpoint) IsPull() bool { return e.Type == EndpointPull }

// Ordered reports whether the endpoint's deliveries are sent in some
// order (FIFO or per key), which rules out handing them over at ingest.
func (e *Endpoint) Ordered() bool { return e.Ordering != OrderingNone }

// DeliveryKey is the ordering key a new delivery of ev to e carries: the
// event's key if e is key-ordered, else none.
func (e *Endpoint) DeliveryKey(ev *Event) string {
	if e.Ordering == OrderingKey {
		return ev.OrderingKey
	}
	return ""
}

// SigningSecrets are the secrets that sign a request at now: the secret,
// and the previous one during its grace period.
func (e *Endpoint) SigningSecrets(now time.Time) []string {
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && now.Before(*e.PreviousSecretUntil) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// Subscribes reports whether the endpoint wants events of type t. Patterns
// are exact names, "*" for everything, or a prefix wildcard such as
// "appointment.*" which matches "appointment.created" and
// "appointment.booking.created" but not "appointment" itself.
func (e *Endpoint) Subscribes(t string) bool {
	for _, p := range e.EventTypes {
		if MatchEventType(p, t) {
			return true
		}
	}
	return false
}

// MatchEventType reports whether pattern p matches event type t.
func MatchEventType(p, t string) bool {
	switch {
	case p == "*":
		return true
	case strings.HasSuffix(p, ".*"):
		return strings.HasPrefix(t, p[:len(p)-1]) && len(t) > len(p)-1
	default:
		return p == t
	}
}

// ValidateEventTypePattern checks one entry of an endpoint's event_types.
func ValidateEventTypePattern(p string) error {
	if p == "*" {
		return nil
	}
	base := strings.TrimSuffix(p, ".*")
	if err := ValidateEventType(base); err != nil {
		return Errorf(ECodeInvalid, "event type pattern %q: must be an event type, a prefix ending in \".*\", or \"*\"", p)
	}
	return nil
}

// ValidateEventType checks an event type name: dot-separated segments of
// letters, digits, '_' and '-', at most 128 bytes.
func ValidateEventType(t string) error {
	if t == "" {
		return Errorf(ECodeInvalid, "type is required")
	}
	if len(t) > 128 {
		return Errorf(ECodeInvalid, "type is longer than 128 bytes")
	}
	for _, seg := range strings.Split(t, ".") {
		if seg == "" {
			return Errorf(ECodeInvalid, "type %q has an empty segment", t)
		}
		for _, r := range seg {
			ok := r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !ok {
				return Errorf(ECodeInvalid, "type %q may contain only letters, digits, '_', '-' and '.'", t)
			}
		}
	}
	return nil
}

// Event is something that happened, published by a tenant.
type Event struct {
	ID             string          `json:"id"`
	TenantID       string          `json:"-"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// OrderingKey groups events whose deliveries to a key-ordered endpoint
	// go one at a time, in publish order (the appointment, group event or
	// record id for scheduling events).
	OrderingKey string `json:"ordering_key,omitempty"`
	// Source, when set, routes the event (Endpoint.AcceptsSource) and is in
	// the payload.
	Source    *EventSource `json:"source,omitempty"`
	CreatedAt time.Time    `json:"timestamp"`
	// ArchivedAt is when the retention job archived the event: its data
	// is gone (null).
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	// Payload is the exact body sent to endpoints (and signed).
	Payload []byte `json:"-"`
	// Offset is, for appointment.starting and appointment.ended fired by a
	// timer, the offset it fired at (OffsetString): only endpoints with
	// that Offset get it. Not stored.
	Offset string `json:"-"`
}

// OffsetString is an offset as endpoints and events carry it: Go's form,
// "" for the moment itself.
func OffsetString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// AcceptsOffset reports whether the endpoint gets e as far as offsets go:
// appointment.starting and appointment.ended only at the endpoint's own
// offset; every other type always.
func (ep *Endpoint) AcceptsOffset(e *Event) bool {
	switch e.Type {
	case "appointment.starting", "appointment.ended":
		return ep.Offset == e.Offset
	}
	return true
}

// BuildPayload renders the webhook body for the event: id, type, timestamp
// (RFC 3339, UTC, millisecond precision), source when there is one, and
// data.
func (e *Event) BuildPayload() []byte {
	b := make([]byte, 0, len(e.Data)+128)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"timestamp":"`...)
	b = e.CreatedAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, '"')
	if e.Source != nil {
		src, _ := json.Marshal(e.Source)
		b = append(b, `,"source":`...)
		b = append(b, src...)
	}
	b = append(b, `,"data":`...)
	b = append(b, e.Data...)
	b = append(b, '}')
	return b
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

// Delivery statuses.
const (
	StatusPending   = "pending"   // waiting for its next attempt
	StatusInflight  = "inflight"  // claimed by a node under a lease
	StatusSucceeded = "succeeded" // a 2xx was received
	StatusFailed    = "failed"    // retries exhausted, or the endpoint is gone
	StatusFiltered  = "filtered"  // the endpoint's filter did not match: not sent
)

// ValidStatus reports whether s is a delivery status.
func ValidStatus(s string) bool {
	switch s {
	case StatusPending, StatusInflight, StatusSucceeded, StatusFailed, StatusFiltered:
		return true
	}
	return false
}

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID             string     `json:"id"`
	TenantID       string     `json:"-"`
	EndpointID     string     `json:"endpoint_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	ReplayOf       string     `json:"replay_of,omitempty"`
	// ReplayCount is how many replays of this delivery were made (shown
	// on one delivery, not in lists).
	ReplayCount int `json:"replay_count,omitempty"`
	// OrderingKey is the event's ordering key when the delivery was
	// created for a key-ordered endpoint, else empty.
	OrderingKey string    `json:"ordering_key,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// ArchivedAt is when the retention job archived the delivery: its
	// payload, the headers and bodies of its attempts are gone.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	// Seq orders deliveries of one endpoint for FIFO delivery.
	Seq int64 `json:"-"`
}

// Attempt is one HTTP request made for a delivery.
type Attempt struct {
	DeliveryID   string    `json:"-"`
	Number       int       `json:"number"`
	At           time.Time `json:"at"`
	StatusCode   int       `json:"status_code,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
	ResponseBody string    `json:"response_body,omitempty"`
	Error        string    `json:"error,omitempty"`
	// RequestHeaders are the headers sent, secrets masked; ResponseHeaders
	// those received (each at most MaxHeaderText bytes).
	RequestHeaders  HeaderText `json:"request_headers,omitempty"`
	ResponseHeaders HeaderText `json:"response_headers,omitempty"`
}

// TestEventType is the type of the event POST /v1/endpoints/{id}/test sends.
const TestEventType = "webhook.test"

// VerificationEventType is the type of the challenge an endpoint with
// verify receives for each new URL.
const VerificationEventType = "webhook.verification"

// TestResult is what a receiver answered to a test event.
type TestResult struct {
	// EventID is the test event's id (its webhook-id); the event is not stored.
	EventID string `json:"event_id"`
	// Succeeded is true for a 2xx answer.
	Succeeded  bool  `json:"succeeded"`
	StatusCode int   `json:"status_code,omitempty"`
	LatencyMS  int64 `json:"latency_ms"`
	// Body is the start of the answer's body (at most 4 KiB, valid UTF-8).
	Body  string `json:"body,omitempty"`
	Error string `json:"error,omitempty"`
}

// Erasure is the record of an erasure of a person's personal data (POST
// /v1/erasures): who asked, how the person was named and how many records
// were changed, by kind ("events", "attempts", and the modules' kinds such
// as "customers"). It never holds the person's address or id.
type Erasure struct {
	ID       string
	TenantID string
	// APIKeyID is the key that asked.
	APIKeyID string
	// Subject is how the request named the person: "customer_id" or
	// "email".
	Subject   string
	Counts    map[string]int
	CreatedAt time.Time
}

// MarshalJSON writes the erasure as one flat object: id, created_at,
// subject, api_key_id, then the counts by name, sorted.
func (e Erasure) MarshalJSON() ([]byte, error) {
	b := []byte(`{"id":`)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"created_at":`...)
	at, err := e.CreatedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b = append(b, at...)
	b = append(b, `,"subject":`...)
	b = appendJSONString(b, e.Subject)
	b = append(b, `,"api_key_id":`...)
	b = appendJSONString(b, e.APIKeyID)
	names := make([]string, 0, len(e.Counts))
	for n := range e.Counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b = append(b, ',')
		b = appendJSONString(b, n)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(e.Counts[n]), 10)
	}
	return append(b, '}'), nil
}
