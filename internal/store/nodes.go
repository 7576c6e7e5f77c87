package store

import (
	"context"
	"time"
)

// Nodes is the registry of the nodes sharing the database: each node
// writes its row when it starts and at every heartbeat
// (internal/heartbeat), and removes it on a clean stop; operators read
// them (GET /v1/nodes).
type Nodes interface {
	// Heartbeat writes the node's row, replacing what it held.
	Heartbeat(ctx context.Context, n NodeInfo) error
	// ListNodes returns every node's row, by id.
	ListNodes(ctx context.Context) ([]NodeInfo, error)
	// RemoveNode deletes a node's row; a missing row is no error.
	RemoveNode(ctx context.Context, id string) error
	// RemoveStaleNodes deletes the rows of nodes whose last heartbeat was
	// before before, and returns how many.
	RemoveStaleNodes(ctx context.Context, before time.Time) (int, error)
}

// NodeInfo is a node's row in the registry.
type NodeInfo struct {
	ID      string // --node-id
	Role    string // --role: all, api or worker
	Version string // the binary's version
	Host    string // the host name ("" when unknown)
	// StartedAt is when the node started, HeartbeatAt its last
	// heartbeat (times are kept to the millisecond).
	StartedAt, HeartbeatAt time.Time
	// InFlight is how many deliveries the node was sending at HeartbeatAt.
	InFlight int
}

// Figures are what an operator's overview reads across tenants.
type Figures interface {
	// EndpointCounts returns how many endpoints each tenant has (tenants
	// without any are absent).
	EndpointCounts(ctx context.Context) (map[string]int, error)
	// TenantStats returns, by tenant, the sums of the statistics buckets
	// at resolution res starting at or after since (tenants without any
	// are absent).
	TenantStats(ctx context.Context, res string, since time.Time) (map[string]StatsCounts, error)
}
