package store

import (
	"context"
	"time"
)

// Stats keeps the delivery statistics buckets (internal/stats decides
// what they hold and how they are read).
type Stats interface {
	// StatsBuckets returns the buckets at resolution res ("m" or "h")
	// starting at or after since, of one endpoint of the tenant, or of all
	// of them (endpointID "") summed by start.
	StatsBuckets(ctx context.Context, tenantID, endpointID, res string, since time.Time) ([]StatsBucket, error)
	// PruneStats removes buckets at res that started before before.
	PruneStats(ctx context.Context, res string, before time.Time) (int, error)
}

// LatencyBins is the number of bins of a bucket's latency histogram.
const LatencyBins = 23

// StatsCounts are one bucket's figures, or a change to them.
type StatsCounts struct {
	Succeeded, Failed, Retrying int64
	Latency                     [LatencyBins]int64
	// LastSuccess and LastFailure are attempt times in ms since the epoch
	// (0: none); a change keeps the later.
	LastSuccess, LastFailure int64
}

// Add adds c to s.
func (s *StatsCounts) Add(c *StatsCounts) {
	s.Succeeded += c.Succeeded
	s.Failed += c.Failed
	s.Retrying += c.Retrying
	for i := range s.Latency {
		s.Latency[i] += c.Latency[i]
	}
	s.LastSuccess = max(s.LastSuccess, c.LastSuccess)
	s.LastFailure = max(s.LastFailure, c.LastFailure)
}

// StatsKey names a bucket: an endpoint, a resolution and the bucket's
// start (ms since the epoch).
type StatsKey struct {
	EndpointID string
	Res        string
	Start      int64
}

// StatsDelta is a change to one bucket, written with the outcomes.
type StatsDelta struct {
	StatsKey
	TenantID string
	StatsCounts
}

// StatsBucket is a bucket as read.
type StatsBucket struct {
	Start time.Time
	StatsCounts
}

// Retention is the store's side of the retention job: archiving old
// deliveries and events (their bodies and headers deleted, the rows kept),
// deleting them later, and giving the space back. Each call is one
// bounded transaction; the job calls again while More.
type Retention interface {
	// Archive archives, oldest first, up to limit deliveries created
	// before before — a delivery still waiting is failed as expired, one
	// in flight stops the pass until it finishes — and the events whose
	// deliveries are all archived, or that had none. It remembers how far
	// it went.
	Archive(ctx context.Context, before, now time.Time, limit int) (ArchiveResult, error)
	// Purge deletes, oldest first, up to limit archived deliveries created
	// before before (with their attempts), and archived events created
	// before before that no delivery refers to.
	Purge(ctx context.Context, before time.Time, limit int) (PurgeResult, error)
	// Compact gives free space back to the file system where the engine
	// does not (SQLite); it returns the bytes released.
	Compact(ctx context.Context) (int64, error)
}

// ArchiveResult says what one Archive call did.
type ArchiveResult struct {
	Deliveries int // archived
	Expired    int // of those, failed because they were never delivered
	Events     int // archived
	More       bool
}

// PurgeResult says what one Purge call did.
type PurgeResult struct {
	Deliveries, Events int
	More               bool
}
