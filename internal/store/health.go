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

// EndpointState is what the store knows of an endpoint's health when a
// batch of outcomes is recorded.
type EndpointState struct {
	EndpointID   string
	TenantID     string
	Enabled      bool
	FailingSince *time.Time
	// RESTHook: the endpoint is a REST hook, deleted rather than disabled.
	RESTHook bool
}

// HealthDecision is what the health policy makes of a state and a batch:
// the endpoint's new failing_since (nil: not failing), whether it is
// disabled now (and why), and whether a run of failures just ended.
type HealthDecision struct {
	FailingSince *time.Time
	Disable      bool
	// Delete: the endpoint is removed (a REST hook whose target is gone).
	Delete    bool
	Reason    string
	Recovered bool
}

// HealthPolicy decides an endpoint's health (internal/health). The store
// reads the state, asks the policy and writes the decision, in the
// transaction that records the outcomes; the policy does no I/O.
type HealthPolicy interface {
	Decide(s EndpointState, h Health, now time.Time) HealthDecision
}

// CompleteBatch is a batch of outcomes to record.
type CompleteBatch struct {
	Outcomes []Outcome
	Now      time.Time
	// Health decides what the outcomes do to their endpoints; nil leaves
	// endpoints as they are.
	Health HealthPolicy
}

// EndpointHealth groups outcomes by endpoint, keeping first-seen order.
func EndpointHealth(outcomes []Outcome) []Health {
	idx := map[string]int{}
	var out []Health
	for _, o := range outcomes {
		if o.NoContact {
			continue
		}
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
