// Package client is a Go client for the Slotwire HTTP API, for applications
// that publish events and manage their endpoints. It has its own request and
// answer types and depends on the standard library only, so importing it pulls
// in nothing of the server. Slotwire's own integration tests use it, so it
// stays in step with the server.
//
// Receivers that verify webhook signatures use package
// github.com/slotwire/slotwire/signature.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one Slotwire server with one token (a tenant API key or
// the admin token).
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// New returns a client for baseURL (e.g. "http://127.0.0.1:8080").
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: http.DefaultClient}
}

// Error is an API error answer: the HTTP status and the error body's code
// (for example "invalid_request", "not_found", "unauthorized") and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("slotwire: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to ignore it). Extra headers may be given.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, header ...string) error {
	var rd io.Reader
	if body != nil {
		if raw, ok := body.([]byte); ok {
			rd = bytes.NewReader(raw)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				return fmt.Errorf("slotwire: encoding request: %w", err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return fmt.Errorf("slotwire: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("slotwire: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("slotwire: reading answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var eb struct {
			Error ErrorInfo `json:"error"`
		}
		_ = json.Unmarshal(data, &eb)
		return &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = data
		return nil
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("slotwire: decoding answer: %w", err)
		}
	}
	return nil
}

// CreateTenant creates a tenant (admin token). The answer holds the tenant's
// API key, which is shown only this once.
func (c *Client) CreateTenant(ctx context.Context, name, plan string) (*TenantWithKey, error) {
	var t TenantWithKey
	err := c.Do(ctx, http.MethodPost, "/v1/tenants", map[string]string{"name": name, "plan": plan}, &t)
	return &t, err
}

// UpdateTenant changes a tenant's name or plan (admin token); nil fields
// stay as they are.
func (c *Client) UpdateTenant(ctx context.Context, id string, name, plan *string) (*Tenant, error) {
	var t Tenant
	err := c.Do(ctx, http.MethodPatch, "/v1/tenants/"+url.PathEscape(id), map[string]*string{"name": name, "plan": plan}, &t)
	return &t, err
}

// ListTenants returns all tenants (admin token).
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var l Page[Tenant]
	err := c.Do(ctx, http.MethodGet, "/v1/tenants", nil, &l)
	return l.Data, err
}

// CreateAPIKey adds an API key to a tenant (admin token).
func (c *Client) CreateAPIKey(ctx context.Context, tenantID string) (*APIKey, error) {
	var k APIKey
	err := c.Do(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(tenantID)+"/api-keys", nil, &k)
	return &k, err
}

// CreateEndpoint creates an endpoint and returns it with its secret.
func (c *Client) CreateEndpoint(ctx context.Context, in EndpointInput) (*EndpointWithSecret, error) {
	var e EndpointWithSecret
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints", in, &e)
	return &e, err
}

// GetEndpoint returns an endpoint.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var e Endpoint
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(id), nil, &e)
	return &e, err
}

// ListEndpoints returns a page of endpoints; cursor "" is the first page
// and limit 0 the server's default.
func (c *Client) ListEndpoints(ctx context.Context, cursor string, limit int) (*Page[Endpoint], error) {
	var l Page[Endpoint]
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints?"+pageQuery(cursor, limit).Encode(), nil, &l)
	return &l, err
}

// UpdateEndpoint changes the fields set in in.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, in EndpointInput) (*Endpoint, error) {
	var e Endpoint
	err := c.Do(ctx, http.MethodPatch, "/v1/endpoints/"+url.PathEscape(id), in, &e)
	return &e, err
}

// DeleteEndpoint deletes an endpoint and its delivery log.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/endpoints/"+url.PathEscape(id), nil, nil)
}

// CreateKey creates an API key with scopes (the calling key needs admin).
func (c *Client) CreateKey(ctx context.Context, name string, scopes ...string) (*NewKey, error) {
	var k NewKey
	err := c.Do(ctx, http.MethodPost, "/v1/api-keys", map[string]any{"name": name, "scopes": scopes}, &k)
	return &k, err
}

// ListKeys lists the tenant's API keys, never their secrets (needs admin).
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) {
	var l Page[Key]
	err := c.Do(ctx, http.MethodGet, "/v1/api-keys", nil, &l)
	return l.Data, err
}

// DeleteKey revokes an API key (needs admin).
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(id), nil, nil)
}

// TestEndpoint sends a signed webhook.test event to the endpoint now and
// returns what the receiver answered. Nothing is stored.
func (c *Client) TestEndpoint(ctx context.Context, id string) (*TestResult, error) {
	var r TestResult
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/test", nil, &r)
	return &r, err
}

// EndpointSecret returns an endpoint's signing secret.
func (c *Client) EndpointSecret(ctx context.Context, id string) (string, error) {
	var s struct {
		Secret string `json:"secret"`
	}
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(id)+"/secret", nil, &s)
	return s.Secret, err
}

// Publish sends an event; it returns once the event and its deliveries are
// durably stored. data is encoded as JSON (a json.RawMessage is sent as is).
// idempotencyKey may be empty.
func (c *Client) Publish(ctx context.Context, eventType string, data any, idempotencyKey string) (*EventAccepted, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("slotwire: encoding data: %w", err)
	}
	return c.PublishEvent(ctx, EventInput{Type: eventType, Data: raw, IdempotencyKey: idempotencyKey})
}

// PublishEvent sends an event given in full (with an ordering key, for
// example); it returns once the event is durably stored.
func (c *Client) PublishEvent(ctx context.Context, in EventInput) (*EventAccepted, error) {
	var a EventAccepted
	err := c.Do(ctx, http.MethodPost, "/v1/events", in, &a)
	return &a, err
}

// PublishBatch sends up to 100 events in one request. The answer has one
// result per event, in order; an event that is refused has its Error set and
// does not stop the others.
func (c *Client) PublishBatch(ctx context.Context, events []EventInput) ([]BatchResult, error) {
	var l Page[BatchResult]
	err := c.Do(ctx, http.MethodPost, "/v1/events/batch", map[string][]EventInput{"events": events}, &l)
	return l.Data, err
}

// GetEvent returns a stored event with the deliveries it caused.
func (c *Client) GetEvent(ctx context.Context, id string) (*EventDetail, error) {
	var e EventDetail
	err := c.Do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, &e)
	return &e, err
}

// ListDeliveries returns a page of an endpoint's deliveries, newest first,
// optionally only those with status (StatusSucceeded …).
func (c *Client) ListDeliveries(ctx context.Context, endpointID, status, cursor string, limit int) (*Page[Delivery], error) {
	q := pageQuery(cursor, limit)
	if status != "" {
		q.Set("status", status)
	}
	var l Page[Delivery]
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(endpointID)+"/deliveries?"+q.Encode(), nil, &l)
	return &l, err
}

// SearchDeliveries returns a page of the tenant's deliveries to every
// endpoint (or q.EndpointID's), newest first.
func (c *Client) SearchDeliveries(ctx context.Context, q DeliveryQuery) (*Page[Delivery], error) {
	v := pageQuery(q.Cursor, q.Limit)
	setNonEmpty(v, "endpoint_id", q.EndpointID, "status", q.Status, "status_class", q.StatusClass,
		"event_type", q.EventType, "event_id", q.EventID)
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	var l Page[Delivery]
	err := c.Do(ctx, http.MethodGet, "/v1/deliveries?"+v.Encode(), nil, &l)
	return &l, err
}

// ListEvents returns a page of the tenant's events, newest first.
func (c *Client) ListEvents(ctx context.Context, q EventQuery) (*Page[Event], error) {
	v := pageQuery(q.Cursor, q.Limit)
	setNonEmpty(v, "type", q.Type)
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	var l Page[Event]
	err := c.Do(ctx, http.MethodGet, "/v1/events?"+v.Encode(), nil, &l)
	return &l, err
}

// Feed pulls, oldest first, what the endpoint was sent after the cursor
// ("" for the start); pass the result's NextCursor to resume.
func (c *Client) Feed(ctx context.Context, endpointID, after string, limit int) (*Feed, error) {
	v := url.Values{}
	setNonEmpty(v, "after", after)
	if limit > 0 {
		v.Set("limit", fmt.Sprint(limit))
	}
	var f Feed
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(endpointID)+"/feed?"+v.Encode(), nil, &f)
	return &f, err
}

// FeedWait is Feed as a long poll: when nothing is available after the
// cursor the server holds the request open for up to wait (at most 30 s)
// and answers as soon as an item is, or with an empty page. The client's
// HTTP timeout must be longer than wait.
func (c *Client) FeedWait(ctx context.Context, endpointID, after string, limit int, wait time.Duration) (*Feed, error) {
	v := url.Values{}
	setNonEmpty(v, "after", after)
	if limit > 0 {
		v.Set("limit", fmt.Sprint(limit))
	}
	if wait > 0 {
		v.Set("wait", wait.String())
	}
	var f Feed
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(endpointID)+"/feed?"+v.Encode(), nil, &f)
	return &f, err
}

// CreateFeedToken gives the endpoint a new read token for its feed only
// (shown once; the previous one stops working). Use it as a Client's Token.
func (c *Client) CreateFeedToken(ctx context.Context, endpointID string) (string, error) {
	var out struct {
		Token string `json:"feed_token"`
	}
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(endpointID)+"/feed-token", nil, &out)
	return out.Token, err
}

// DeleteFeedToken removes the endpoint's feed token: it stops working at
// once, and the feed is read with an API key only.
func (c *Client) DeleteFeedToken(ctx context.Context, endpointID string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/endpoints/"+url.PathEscape(endpointID)+"/feed-token", nil, nil)
}

// Recover replays, once each and in order, the endpoint's failed
// deliveries created in [since, until) (a zero until means now) and
// returns how many were queued.
func (c *Client) Recover(ctx context.Context, endpointID string, since, until time.Time) (int, error) {
	in := map[string]time.Time{"since": since}
	if !until.IsZero() {
		in["until"] = until
	}
	var out struct {
		Queued int `json:"queued"`
	}
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(endpointID)+"/recover", in, &out)
	return out.Queued, err
}

func setNonEmpty(v url.Values, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
}

func setTime(v url.Values, name string, t time.Time) {
	if !t.IsZero() {
		v.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}

// GetDelivery returns a delivery with its attempts.
func (c *Client) GetDelivery(ctx context.Context, id string) (*DeliveryDetail, error) {
	var d DeliveryDetail
	err := c.Do(ctx, http.MethodGet, "/v1/deliveries/"+url.PathEscape(id), nil, &d)
	return &d, err
}

// DeliveryPayload returns the exact bytes sent (and signed) for a delivery.
func (c *Client) DeliveryPayload(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := c.Do(ctx, http.MethodGet, "/v1/deliveries/"+url.PathEscape(id)+"/payload", nil, &b)
	return b, err
}

// Replay queues a new delivery of the same event to the same endpoint.
func (c *Client) Replay(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	err := c.Do(ctx, http.MethodPost, "/v1/deliveries/"+url.PathEscape(id)+"/replay", nil, &d)
	return &d, err
}

// Erase erases a person's personal data from the tenant's stored events,
// attempts and scheduling records (the key needs the erasure or admin
// scope) and returns the record of the erasure with what it changed.
func (c *Client) Erase(ctx context.Context, in ErasureInput) (*Erasure, error) {
	var e Erasure
	err := c.Do(ctx, http.MethodPost, "/v1/erasures", in, &e)
	return &e, err
}

// ListErasures returns a page of the tenant's erasure records, newest
// first; cursor "" is the first page and limit 0 the server's default.
func (c *Client) ListErasures(ctx context.Context, cursor string, limit int) (*Page[Erasure], error) {
	var l Page[Erasure]
	err := c.Do(ctx, http.MethodGet, "/v1/erasures?"+pageQuery(cursor, limit).Encode(), nil, &l)
	return &l, err
}

func pageQuery(cursor string, limit int) url.Values {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	return q
}

// Stats returns the statistics of the tenant's deliveries (those of the
// endpoints the key covers).
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	var s Stats
	err := c.Do(ctx, http.MethodGet, "/v1/stats", nil, &s)
	return &s, err
}

// EndpointStats returns the statistics of one endpoint's deliveries.
func (c *Client) EndpointStats(ctx context.Context, endpointID string) (*Stats, error) {
	var s Stats
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(endpointID)+"/stats", nil, &s)
	return &s, err
}
