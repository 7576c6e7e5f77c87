// Package stats owns delivery statistics: what one batch of outcomes
// changes in the per-endpoint buckets the store keeps (Deltas, written in
// the transaction that records the outcomes), and how buckets become the
// windows, rates, latency percentiles and hourly series the API shows
// (Summarize). Pure: the store persists buckets, the API reads them.
//
// Counts are of deliveries by their current status, in the bucket of the
// delivery's creation: a delivery retrying counts as retrying until it
// succeeds or fails, and then moves. Attempt latencies and the last
// success and failure are in the bucket of the attempt.
package stats

import (
	"slices"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// Bucket resolutions: a minute (kept MinuteKeep, for the 1 h window) and
// an hour (kept HourKeep, for 24 h, 7 d, 30 d and the hourly series).
const (
	Minute = "m"
	Hour   = "h"
)

// How long buckets are kept (the maintenance job prunes older ones).
const (
	MinuteKeep = 2 * time.Hour
	HourKeep   = 35 * 24 * time.Hour
)

// LatencyBounds are the upper bounds, in ms, of the latency histogram's
// bins; one more bin holds what is above the last bound.
var LatencyBounds = []int64{1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765,
	10946, 17711, 28657}

// Bins is the number of latency bins.
const Bins = store.LatencyBins

// The bucket types are the store's.
type (
	Counts = store.StatsCounts
	Key    = store.StatsKey
	Delta  = store.StatsDelta
	Bucket = store.StatsBucket
)

// Deltas are the changes a batch of outcomes makes, one per bucket,
// sorted by key (so concurrent writers lock rows in one order).
func Deltas(outcomes []store.Outcome) []Delta {
	m := map[Key]*Delta{}
	at := func(ep, tenant string, t time.Time, res string) *Counts {
		k := Key{EndpointID: ep, Res: res, Start: truncate(t, res)}
		d, ok := m[k]
		if !ok {
			d = &Delta{StatsKey: k, TenantID: tenant}
			m[k] = d
		}
		return &d.StatsCounts
	}
	for i := range outcomes {
		o := &outcomes[i]
		if o.Status == slotwire.StatusFiltered || o.CreatedAt.IsZero() {
			continue
		}
		for _, res := range []string{Minute, Hour} {
			countStatus(at(o.EndpointID, o.TenantID, o.CreatedAt, res), o)
			countAttempt(at(o.EndpointID, o.TenantID, o.Attempt.At, res), o)
		}
	}
	out := make([]Delta, 0, len(m))
	for _, d := range m {
		if d.StatsCounts != (Counts{}) {
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b Delta) int { return compareKeys(a.StatsKey, b.StatsKey) })
	return out
}

// countStatus moves the delivery to its new status in its creation
// bucket: from nowhere on its first attempt, else from retrying.
func countStatus(c *Counts, o *store.Outcome) {
	if o.Prior > 0 {
		if o.Status == slotwire.StatusPending {
			return // still retrying
		}
		c.Retrying--
	}
	switch o.Status {
	case slotwire.StatusSucceeded:
		c.Succeeded++
	case slotwire.StatusFailed:
		c.Failed++
	case slotwire.StatusPending:
		c.Retrying++
	}
}

// countAttempt records an attempt's latency and time in its bucket.
func countAttempt(c *Counts, o *store.Outcome) {
	at := o.Attempt.At.UnixMilli()
	if o.Status == slotwire.StatusSucceeded {
		c.LastSuccess = max(c.LastSuccess, at)
	} else {
		c.LastFailure = max(c.LastFailure, at)
	}
	if !o.NoContact {
		c.Latency[bin(o.Attempt.DurationMS)]++
	}
}

func bin(ms int64) int {
	i, _ := slices.BinarySearch(LatencyBounds, ms)
	return i
}

func truncate(t time.Time, res string) int64 {
	if res == Minute {
		return t.Truncate(time.Minute).UnixMilli()
	}
	return t.Truncate(time.Hour).UnixMilli()
}

func compareKeys(a, b Key) int {
	switch {
	case a.EndpointID != b.EndpointID:
		return compare(a.EndpointID, b.EndpointID)
	case a.Res != b.Res:
		return compare(a.Res, b.Res)
	}
	return compare(a.Start, b.Start)
}

func compare[T int64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
