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
