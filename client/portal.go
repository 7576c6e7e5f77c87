package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// PortalSessionInput is the body of CreatePortalSession.
type PortalSessionInput struct {
	// Scopes narrow what the portal's visitor may do (none: the key's
	// scopes); each must be one the key holds.
	Scopes []string `json:"scopes,omitempty"`
	// TTL is how long the link and its session last, a Go duration from
	// "1m" to "24h"; "" is 1h.
	TTL string `json:"ttl,omitempty"`
}

// PortalSession is a one-time link to the dashboard: the first browser
// that opens URL is signed in as the tenant until ExpiresAt.
type PortalSession struct {
	URL       string    `json:"url"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreatePortalSession makes a one-time dashboard link for the key's
// tenant, to hand to a customer (embedded in a vendor's own product).
func (c *Client) CreatePortalSession(ctx context.Context, in PortalSessionInput) (*PortalSession, error) {
	var p PortalSession
	err := c.Do(ctx, http.MethodPost, "/v1/portal-sessions", in, &p)
	return &p, err
}

// PreviewInput is the body of PreviewEndpoint: an endpoint's filter,
// transform and payload format, tried on an event of EventType with Data
// (nil: the event type's example).
type PreviewInput struct {
	EventType     string          `json:"event_type"`
	Data          json.RawMessage `json:"data,omitempty"`
	Filter        string          `json:"filter,omitempty"`
	Transform     string          `json:"transform,omitempty"`
	PayloadFormat string          `json:"payload_format,omitempty"`
}

// Preview is what an endpoint with those settings would be sent: nothing
// when Matched is false (the filter did not match), else Body.
type Preview struct {
	Matched bool            `json:"matched"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// PreviewEndpoint runs an endpoint's filter and transform on an event
// without storing or sending anything; a jq error is an invalid_request
// Error naming the expression that failed.
func (c *Client) PreviewEndpoint(ctx context.Context, in PreviewInput) (*Preview, error) {
	var p Preview
	err := c.Do(ctx, http.MethodPost, "/v1/endpoints/preview", in, &p)
	return &p, err
}
