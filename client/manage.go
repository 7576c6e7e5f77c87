package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// SigningKey is what verifies an endpoint's webhooks: its secret
// ("whsec_…", or the string as given for the hmac-sha256-hex and
// timestamped profiles), or the public key ("whpk_…") of a
// standard-ed25519 endpoint, whose secret key is never shown.
type SigningKey struct {
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// EndpointSigningKey returns what verifies an endpoint's webhooks: its
// secret or, for a standard-ed25519 endpoint, its public key.
func (c *Client) EndpointSigningKey(ctx context.Context, id string) (*SigningKey, error) {
	var k SigningKey
	err := c.Do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(id)+"/secret", nil, &k)
	return &k, err
}

// RotateInput is the body of RotateSecret; empty fields take the server's
// defaults.
type RotateInput struct {
	// Grace is how long the previous secret signs too, a Go duration from
	// "0s" (stop at once) to "168h"; "" is 24h.
	Grace string `json:"grace,omitempty"`
	// Secret is the new secret, as for creating an endpoint; "" makes one.
	Secret string `json:"secret,omitempty"`
}

// RotatedSecret is the answer to RotateSecret: the new secret (or, for a
// standard-ed25519 endpoint, the new public key) and until when the
// previous one signs too (nil without a grace period).
type RotatedSecret struct {
	Secret              string     `json:"secret,omitempty"`
	PublicKey           string     `json:"public_key,omitempty"`
	PreviousSecretUntil *time.Time `json:"previous_secret_until"`
}

// RotateSecret gives the endpoint a new signing secret; during the grace
// period requests carry the signatures of both.
func (c *Client) RotateSecret(ctx context.Context, id string, in RotateInput) (*RotatedSecret, error) {
	var r RotatedSecret
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/secret/rotate", in, &r)
	return &r, err
}

// EventType is an event type as ListEventTypes lists it: a type of the
// server's catalog, or one the tenant registered (Custom, with CreatedAt).
type EventType struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Scope       string          `json:"scope"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
	Custom      bool            `json:"custom,omitempty"`
	CreatedAt   *time.Time      `json:"created_at,omitempty"`
}

// EventTypeInput registers one of the tenant's own event types; Schema (a
// JSON Schema, draft 2020-12) and Example are optional.
type EventTypeInput struct {
	Type        string          `json:"type"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// ListEventTypes returns the catalog's event types, then the tenant's own.
func (c *Client) ListEventTypes(ctx context.Context) ([]EventType, error) {
	var l Page[EventType]
	err := c.Do(ctx, http.MethodGet, "/v1/event-types", nil, &l)
	return l.Data, err
}

// CreateEventType registers one of the tenant's own event types (the key
// needs the custom scope).
func (c *Client) CreateEventType(ctx context.Context, in EventTypeInput) (*EventType, error) {
	var t EventType
	err := c.Do(ctx, http.MethodPost, "/v1/event-types", in, &t)
	return &t, err
}

// DeleteEventType archives one of the tenant's registered event types.
func (c *Client) DeleteEventType(ctx context.Context, eventType string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/event-types/"+url.PathEscape(eventType), nil, nil)
}
