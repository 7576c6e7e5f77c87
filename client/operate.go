package client

import (
	"context"
	"net/http"
	"time"
)

// Node is a node sharing the server's database, as ListNodes lists it.
type Node struct {
	ID          string    `json:"id"`      // its --node-id
	Role        string    `json:"role"`    // all, api or worker
	Version     string    `json:"version"` // of its binary
	Host        string    `json:"host"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	// InFlight counts the deliveries it was sending at its last heartbeat.
	InFlight int `json:"inflight"`
	// Alive: its last heartbeat is at most three intervals (30 s) old.
	Alive bool `json:"alive"`
}

// ListNodes returns the nodes sharing the database, by id (admin token).
func (c *Client) ListNodes(ctx context.Context) ([]Node, error) {
	var l Page[Node]
	err := c.Do(ctx, http.MethodGet, "/v1/nodes", nil, &l)
	return l.Data, err
}

// QueueStatus is the work queue of all nodes: the deliveries waiting to be
// sent (due or not), and when the oldest of them was created and its age
// in seconds (nil when none is pending).
type QueueStatus struct {
	Pending          int        `json:"pending"`
	OldestCreatedAt  *time.Time `json:"oldest_created_at"`
	OldestAgeSeconds *float64   `json:"oldest_age_seconds"`
}

// Queue returns the work queue's depth and age (admin token).
func (c *Client) Queue(ctx context.Context) (*QueueStatus, error) {
	var q QueueStatus
	err := c.Do(ctx, http.MethodGet, "/v1/queue", nil, &q)
	return &q, err
}

// TenantFigures is a tenant with its number of endpoints and the figures
// of its deliveries created in the last 24 hours (the "24h" window of
// Stats).
type TenantFigures struct {
	Tenant
	EndpointCount int         `json:"endpoint_count"`
	Deliveries24h StatsWindow `json:"deliveries_24h"`
}

// ListTenantFigures returns all tenants with their figures, oldest first
// (admin token).
func (c *Client) ListTenantFigures(ctx context.Context) ([]TenantFigures, error) {
	var l Page[TenantFigures]
	err := c.Do(ctx, http.MethodGet, "/v1/tenants?include=figures", nil, &l)
	return l.Data, err
}
