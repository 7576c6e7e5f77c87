package store

import (
	"time"

	"github.com/slotwire/slotwire"
)

// Health summarises what a batch of outcomes says about one endpoint, in
// the order the attempts were made.
type Health struct {
	EndpointID string
	// Succeeded: at least one attempt succeeded, so any earlier run of
	// failures is over.
	Succeeded bool
	// FailingSince is the time of the first failed attempt after the last
	// success in the batch (zero when the batch ends with a success).
	FailingSince time.Time
	// DisableReason is set when an outcome asked to disable the endpoint.
	DisableReason string
}

// EndpointHealth groups outcomes by endpoint, keeping first-seen order. Both
// drivers apply it the same way: clear failing_since on success, set it
// (if unset) on failure, then disable when asked or when failing too long.
func EndpointHealth(outcomes []Outcome) []Health {
	idx := map[string]int{}
	var out []Health
	for _, o := range outcomes {
		i, ok := idx[o.EndpointID]
		if !ok {
			i = len(out)
			idx[o.EndpointID] = i
			out = append(out, Health{EndpointID: o.EndpointID})
		}
		h := &out[i]
		if o.Status == slotwire.StatusSucceeded {
			h.Succeeded = true
			h.FailingSince = time.Time{}
		} else if h.FailingSince.IsZero() {
			h.FailingSince = o.Attempt.At
		}
		if o.DisableReason != "" {
			h.DisableReason = o.DisableReason
		}
	}
	return out
}
