package client

import (
	"context"
	"net/http"
	"net/url"
)

// HookInput is the body of CreateHook: a REST hook subscription, as Zapier
// and Power Automate make them.
type HookInput struct {
	TargetURL string   `json:"target_url"`
	Events    []string `json:"events"`
}

// Hook is a REST hook subscription: an endpoint (listed with the others,
// with RESTHook set) whose webhooks TargetURL receives, signed with Secret.
type Hook struct {
	ID        string   `json:"id"`
	TargetURL string   `json:"target_url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
}

// CreateHook subscribes a REST hook to event types (exact types or
// patterns such as "appointment.*").
func (c *Client) CreateHook(ctx context.Context, in HookInput) (*Hook, error) {
	var h Hook
	err := c.Do(ctx, http.MethodPost, "/v1/hooks", in, &h)
	return &h, err
}

// DeleteHook removes a REST hook; an endpoint that is not a hook answers
// not_found (it is deleted with DeleteEndpoint).
func (c *Client) DeleteHook(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/hooks/"+url.PathEscape(id), nil, nil)
}

// Settings are the tenant's settings.
type Settings struct {
	// StrictEventTypes: events of a type neither in the catalog nor
	// registered by the tenant are refused.
	StrictEventTypes bool `json:"strict_event_types"`
}

// SettingsInput changes the tenant's settings: nil fields stay as they
// are.
type SettingsInput struct {
	StrictEventTypes *bool `json:"strict_event_types,omitempty"`
}

// GetSettings returns the tenant's settings.
func (c *Client) GetSettings(ctx context.Context) (*Settings, error) {
	var s Settings
	err := c.Do(ctx, http.MethodGet, "/v1/settings", nil, &s)
	return &s, err
}

// UpdateSettings changes the fields set in in (the key needs the admin
// scope) and returns the settings as they are now.
func (c *Client) UpdateSettings(ctx context.Context, in SettingsInput) (*Settings, error) {
	var s Settings
	err := c.Do(ctx, http.MethodPatch, "/v1/settings", in, &s)
	return &s, err
}
