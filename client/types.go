package client

import (
	"encoding/json"
	"time"
)

// Delivery statuses, as the API reports them in Delivery.Status.
const (
	StatusPending   = "pending"   // waiting for its next attempt
	StatusInflight  = "inflight"  // being sent by a node right now
	StatusSucceeded = "succeeded" // the receiver answered with a 2xx
	StatusFailed    = "failed"    // retries exhausted, or the endpoint is gone
	StatusFiltered  = "filtered"  // the endpoint's filter did not match: not sent
)

// Endpoint ordering modes, as in Endpoint.Ordering.
const (
	OrderingNone = ""     // deliveries go in parallel
	OrderingFIFO = "fifo" // one at a time, in publish order
	OrderingKey  = "key"  // one at a time per event ordering key, keys in parallel
)

// Tenant is a company using Slotwire.
type Tenant struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Plan             string    `json:"plan"`
	StrictEventTypes bool      `json:"strict_event_types"`
	CreatedAt        time.Time `json:"created_at"`
}

// TenantWithKey is the answer to CreateTenant: the tenant and its API key,
// which is shown only this once.
type TenantWithKey struct {
	Tenant
	APIKey string `json:"api_key"`
}

// APIKey is the answer to CreateAPIKey; Key is shown only this once.
type APIKey struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Key      string `json:"api_key"`
}

// Endpoint is a receiver, a URL or an e-mail address, and the event types
// it subscribes to.
type Endpoint struct {
	ID string `json:"id"`
	// Type is "http" (URL), "email" (Email: each delivery is an e-mail
	// with the signed payload attached) or "pull" (neither: nothing is
	// sent; the receiver reads the endpoint's Feed, e.g. with FeedWait).
	Type             string            `json:"type"`
	URL              string            `json:"url,omitempty"`
	Email            string            `json:"email,omitempty"`
	Description      string            `json:"description"`
	EventTypes       []string          `json:"event_types"`
	Enabled          bool              `json:"enabled"`
	DisabledReason   string            `json:"disabled_reason,omitempty"`
	Headers          map[string]string `json:"headers"`
	MaxConcurrency   int               `json:"max_concurrency,omitempty"`
	Ordering         string            `json:"ordering,omitempty"`
	RateLimit        int               `json:"rate_limit_per_second,omitempty"`
	SourceApps       []string          `json:"source_apps,omitempty"`
	SourceTypes      []string          `json:"source_types,omitempty"`
	PayloadFormat    string            `json:"payload_format,omitempty"`
	RESTHook         bool              `json:"rest_hook,omitempty"`
	SignatureProfile string            `json:"signature_profile,omitempty"`
	SignatureHeader  string            `json:"signature_header,omitempty"`
	// Verify: the endpoint receives nothing until its URL echoed a
	// challenge; PendingVerification: the current URL has not yet.
	Verify              bool          `json:"verify,omitempty"`
	PendingVerification bool          `json:"pending_verification,omitempty"`
	Auth                *EndpointAuth `json:"auth,omitempty"`
	TLS                 *EndpointTLS  `json:"tls,omitempty"`
	Filter              string        `json:"filter,omitempty"`
	Transform           string        `json:"transform,omitempty"`
	// Offset picks the appointment.starting and appointment.ended events
	// fired that far from the start or end ("" the moment itself).
	Offset       string     `json:"offset,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// PreviousSecretUntil: after a rotation with a grace period, until
	// when the previous secret signs too.
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// EndpointWithSecret is the answer to CreateEndpoint: the endpoint and its
// signing secret ("whsec_..."), or for a standard-ed25519 endpoint its
// public key ("whpk_...").
type EndpointWithSecret struct {
	Endpoint
	Secret    string `json:"secret"`
	PublicKey string `json:"public_key,omitempty"`
}

// EndpointInput is the body of CreateEndpoint and UpdateEndpoint. Nil fields
// are left out: on update they keep their value, on create their default.
type EndpointInput struct {
	// Type is "http" (the default, with URL), "email" (with Email, when
	// the server has an SMTP server) or "pull" (no address: read through
	// the feed); it cannot change.
	Type           *string            `json:"type,omitempty"`
	Email          *string            `json:"email,omitempty"`
	URL            *string            `json:"url,omitempty"`
	EventTypes     *[]string          `json:"event_types,omitempty"`
	Description    *string            `json:"description,omitempty"`
	Enabled        *bool              `json:"enabled,omitempty"`
	Headers        *map[string]string `json:"headers,omitempty"`
	Secret         *string            `json:"secret,omitempty"`
	MaxConcurrency *int               `json:"max_concurrency,omitempty"`
	Ordering       *string            `json:"ordering,omitempty"`
	RateLimit      *int               `json:"rate_limit_per_second,omitempty"`
	SourceApps     *[]string          `json:"source_apps,omitempty"`
	SourceTypes    *[]string          `json:"source_types,omitempty"`
	PayloadFormat  *string            `json:"payload_format,omitempty"`
	// SignatureProfile: standard (default), hmac-sha256-hex, timestamped or
	// none; SignatureHeader: the header of the latter two.
	SignatureProfile *string `json:"signature_profile,omitempty"`
	SignatureHeader  *string `json:"signature_header,omitempty"`
	// Verify: deliver nothing until the URL echoed a challenge.
	Verify *bool `json:"verify,omitempty"`
	// Filter and Transform: jq expressions; "" removes them.
	Filter    *string `json:"filter,omitempty"`
	Transform *string `json:"transform,omitempty"`
	// Offset: a Go duration such as "-15m"; "" the moment itself.
	Offset *string `json:"offset,omitempty"`
	// Auth and TLS: how Slotwire authenticates to the receiver
	// ({"type":"none"} and {} remove them).
	Auth *EndpointAuth `json:"auth,omitempty"`
	TLS  *EndpointTLS  `json:"tls,omitempty"`
}

// EndpointAuth is an endpoint's outgoing auth: basic (Username, Password)
// or oauth2 client credentials (TokenURL, ClientID, ClientSecret, Scope).
// Reads show the password and client secret as "****".
type EndpointAuth struct {
	Type         string `json:"type"`
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	TokenURL     string `json:"token_url,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// EndpointTLS is an endpoint's TLS: a CA (PEM) and a client certificate
// with its key (PEM; reads show the key as "****").
type EndpointTLS struct {
	CACert     string `json:"ca_cert,omitempty"`
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`
}

// EventSource is where an event comes from; endpoints with source_apps or
// source_types route by it.
type EventSource struct {
	App  string `json:"app,omitempty"`
	Type string `json:"type,omitempty"`
}

// Payload formats of an endpoint.
const (
	FormatNested = "nested"
	FormatFlat   = "flat"
	FormatThin   = "thin"
)

// EventInput is one event to publish.
type EventInput struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// OrderingKey groups events delivered in order to key-ordered endpoints.
	OrderingKey string `json:"ordering_key,omitempty"`
	// Source routes the event to endpoints that accept it.
	Source *EventSource `json:"source,omitempty"`
}

// EventAccepted is the answer to Publish. Duplicate is true when the
// idempotency key was seen before: nothing new was stored or sent.
type EventAccepted struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// BatchResult is one event's answer in PublishBatch: its id, or why it was
// refused (Error is then set and ID is empty).
type BatchResult struct {
	ID        string     `json:"id,omitempty"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Error     *ErrorInfo `json:"error,omitempty"`
}

// ErrorInfo is the error object of the API's error shape.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Event is a stored event, in the shape a receiver gets it.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	OrderingKey    string          `json:"ordering_key,omitempty"`
	Source         *EventSource    `json:"source,omitempty"`
	Timestamp      time.Time       `json:"timestamp"`
	// ArchivedAt is set once the retention job archived the event: Data
	// is then null.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// FeedItem is one event of an endpoint's pull feed: the exact body and
// its signature headers (lower-case names).
type FeedItem struct {
	DeliveryID string            `json:"delivery_id"`
	EventID    string            `json:"event_id"`
	EventType  string            `json:"event_type"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// Feed is a page of the pull feed; NextCursor is where to resume.
type Feed struct {
	Data       []FeedItem `json:"data"`
	NextCursor string     `json:"next_cursor"`
}

// EventDetail is an event with every delivery it caused, newest first.
type EventDetail struct {
	Event
	Deliveries []Delivery `json:"deliveries"`
}

// DeliveryQuery is a delivery search; empty fields do not filter.
type DeliveryQuery struct {
	EndpointID  string    // only on SearchDeliveries
	Status      string    // a delivery status, or "retrying"
	StatusClass string    // "2xx", "4xx", "5xx" or "network"
	EventType   string    // a type, or a prefix pattern such as "appointment.*"
	EventID     string    //
	Since       time.Time // created at or after
	Until       time.Time // created before
	Cursor      string
	Limit       int
}

// EventQuery filters ListEvents; empty fields do not filter.
type EventQuery struct {
	Type         string // a type, or a prefix pattern
	Since, Until time.Time
	Cursor       string
	Limit        int
}

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID             string     `json:"id"`
	EndpointID     string     `json:"endpoint_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	ReplayOf       string     `json:"replay_of,omitempty"`
	ReplayCount    int        `json:"replay_count,omitempty"` // on GetDelivery only
	OrderingKey    string     `json:"ordering_key,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// ArchivedAt is set once the retention job archived the delivery: its
	// payload and the bodies and headers of its attempts are gone.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// Attempt is one try at sending a delivery.
type Attempt struct {
	Number       int       `json:"number"`
	At           time.Time `json:"at"`
	StatusCode   int       `json:"status_code,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
	ResponseBody string    `json:"response_body,omitempty"`
	Error        string    `json:"error,omitempty"`
	// RequestHeaders were sent (secrets masked as "[masked]");
	// ResponseHeaders were received.
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
}

// DeliveryDetail is a delivery with its attempts, oldest first.
type DeliveryDetail struct {
	Delivery
	AttemptLog []Attempt `json:"attempt_log"`
}

// Page is one page of a list. NextCursor, when set, fetches the next page.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// TestResult is what a receiver answered to a test event
// (Client.TestEndpoint).
type TestResult struct {
	EventID    string `json:"event_id"`
	Succeeded  bool   `json:"succeeded"`
	StatusCode int    `json:"status_code,omitempty"`
	LatencyMS  int64  `json:"latency_ms"`
	Body       string `json:"body,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Key is a tenant's API key as listed: never the secret.
type Key struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Prefix    string    `json:"prefix"`
	Name      string    `json:"name"`
	Last4     string    `json:"last4"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
}

// NewKey is a key just created: Secret is shown only this once.
type NewKey struct {
	Key
	Secret string `json:"api_key"`
}

// Stats are delivery statistics: windows "1h", "24h", "7d" and "30d",
// the last success and failure, the last 24 hours hour by hour and the
// last 7 days day by day.
type Stats struct {
	Windows       map[string]StatsWindow `json:"windows"`
	LastSuccessAt *time.Time             `json:"last_success_at"`
	LastFailureAt *time.Time             `json:"last_failure_at"`
	Hourly        []StatsHour            `json:"hourly"`
	// Daily are the last 7 days (UTC), today's so far included.
	Daily []StatsDay `json:"daily"`
}

// StatsDay is one day (UTC) of the 7-day series, oldest first.
type StatsDay struct {
	Day       time.Time `json:"day"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
}

// StatsWindow counts the deliveries created in a window by their current
// status; SuccessRate, P50MS and P95MS are nil when there is nothing to
// measure.
type StatsWindow struct {
	Succeeded   int64    `json:"succeeded"`
	Failed      int64    `json:"failed"`
	Retrying    int64    `json:"retrying"`
	SuccessRate *float64 `json:"success_rate"`
	P50MS       *float64 `json:"p50_ms"`
	P95MS       *float64 `json:"p95_ms"`
}

// StatsHour is one hour of the series, oldest first.
type StatsHour struct {
	Hour      time.Time `json:"hour"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
}

// ErasureInput names the person Client.Erase erases: exactly one of a
// scheduling customer id (cus_…) or an e-mail address.
type ErasureInput struct {
	CustomerID string `json:"customer_id,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Erasure is the record of an erasure (Client.Erase, Client.ListErasures):
// who asked and what changed, never the person's address or id.
type Erasure struct {
	ID        string
	CreatedAt time.Time
	// Subject is how the person was named: "customer_id" or "email".
	Subject string
	// APIKeyID is the key that asked.
	APIKeyID string
	// Counts are the records changed, by kind: "events" and "attempts",
	// and the scheduling core's "customers", "appointments", "resources"
	// and "managers".
	Counts map[string]int
}

// UnmarshalJSON reads the flat object the API answers: the fields above,
// and every other member as a count.
func (e *Erasure) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	e.Counts = map[string]int{}
	for k, v := range m {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &e.ID)
		case "created_at":
			err = json.Unmarshal(v, &e.CreatedAt)
		case "subject":
			err = json.Unmarshal(v, &e.Subject)
		case "api_key_id":
			err = json.Unmarshal(v, &e.APIKeyID)
		default:
			var n int
			if json.Unmarshal(v, &n) == nil {
				e.Counts[k] = n
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
