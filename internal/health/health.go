// Package health is the endpoint health policy: when a run of failed
// attempts starts and ends, and when an endpoint is disabled — asked by the
// receiver (410 Gone) or after failing for too long. The store applies its
// decisions in the transaction that records the attempts; the rules and
// their messages live only here.
package health

import (
	"fmt"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Policy is the auto-disable rule.
type Policy struct {
	// DisableAfter disables an endpoint whose every attempt failed for
	// this long; zero or negative: never for that reason.
	DisableAfter time.Duration
}

var _ store.HealthPolicy = Policy{}

// Decide applies a batch's summary h to an endpoint's state s at now.
func (p Policy) Decide(s store.EndpointState, h store.Health, now time.Time) store.HealthDecision {
	d := store.HealthDecision{FailingSince: s.FailingSince}
	if h.Succeeded {
		d.Recovered = s.FailingSince != nil
		d.FailingSince = nil
	}
	if !h.FailingSince.IsZero() && d.FailingSince == nil {
		since := h.FailingSince
		d.FailingSince = &since
	}
	if !s.Enabled {
		return d
	}
	switch {
	case h.DisableReason != "" && s.RESTHook:
		// The subscriber's target is gone: REST Hooks say to unsubscribe.
		d.Delete, d.Reason = true, h.DisableReason+": the REST hook was removed"
	case h.DisableReason != "":
		d.Disable, d.Reason = true, h.DisableReason
	case d.FailingSince != nil && p.DisableAfter > 0 && !d.FailingSince.After(now.Add(-p.DisableAfter)):
		d.Disable, d.Reason = true, DisabledAfterMessage(p.DisableAfter)
	}
	return d
}

// DisabledAfterMessage is the reason given when an endpoint failed too
// long.
func DisabledAfterMessage(after time.Duration) string {
	return fmt.Sprintf("every attempt failed for %s", after)
}
