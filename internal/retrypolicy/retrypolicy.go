// Package retrypolicy decides what happens after one delivery attempt:
// success, a retry after some delay, or failure for good, and whether the
// endpoint must be disabled. It is pure: no clock, no I/O (the random
// source of the jitter can be replaced in tests).
package retrypolicy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
)

// DefaultSchedule is the delay before each attempt: the first is immediate,
// then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (8 attempts).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DefaultJitter spreads delays by ±10 %.
const DefaultJitter = 0.1

// MaxRetryAfter caps how long a receiver's Retry-After can postpone a
// delivery.
const MaxRetryAfter = 24 * time.Hour

// Policy is a retry schedule.
type Policy struct {
	// Schedule is the delay before each attempt; its length is the number
	// of attempts (empty: DefaultSchedule).
	Schedule []time.Duration
	// Jitter spreads each delay by ± this fraction (0 or less: none).
	Jitter float64
	// Rand returns a number in [0, 1) for the jitter (nil: math/rand/v2).
	Rand func() float64
}

// Result is what one attempt came back with.
type Result struct {
	// StatusCode is the HTTP status, 0 when no answer came.
	StatusCode int
	// Err is why no answer came (network error, timeout).
	Err error
	// RetryAfter is the receiver's Retry-After, already parsed.
	RetryAfter time.Duration
	// Accepted: the receiver took it without an HTTP answer (an e-mail
	// the SMTP server accepted); StatusCode stays 0.
	Accepted bool
	// Permanent: sending again cannot succeed (an SMTP 5xx reply), so Err
	// fails the delivery at once.
	Permanent bool
}

// Decision is what to do after an attempt.
type Decision struct {
	// Status is slotwire.StatusSucceeded, StatusPending (retry after
	// Delay) or StatusFailed.
	Status string
	Delay  time.Duration
	// Error describes a failed attempt ("HTTP 500", the network error).
	Error string
	// DisableReason, when set, disables the endpoint: the receiver said
	// it is gone for good.
	DisableReason string
}

// Decide returns what follows an attempt, the attempts-th of its delivery
// (counting this one).
func (p Policy) Decide(attempts int, r Result) Decision {
	var d Decision
	harder := false
	switch code := r.StatusCode; {
	case r.Err != nil && r.Permanent:
		d.Status, d.Error = slotwire.StatusFailed, r.Err.Error()
		return d
	case r.Err != nil:
		d.Error = r.Err.Error()
		harder = IsTimeout(r.Err)
	case r.Accepted || code >= 200 && code < 300:
		d.Status = slotwire.StatusSucceeded
		return d
	case code == http.StatusGone:
		d.Status = slotwire.StatusFailed
		d.Error = "HTTP 410 Gone"
		d.DisableReason = "the endpoint answered 410 Gone"
		return d
	default:
		d.Error = fmt.Sprintf("HTTP %d", code)
		harder = Overloaded(code)
	}
	delay, ok := p.Next(attempts, harder, r.RetryAfter)
	if !ok {
		d.Status = slotwire.StatusFailed
		return d
	}
	d.Status, d.Delay = slotwire.StatusPending, delay
	return d
}

// Overloaded reports whether a status says the receiver is overloaded or
// unreachable behind a proxy: such answers back off twice as long.
func Overloaded(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// IsTimeout reports whether an attempt's error is a timeout; those back
// off twice as long too.
func IsTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout")
}

// Next returns the delay before the next attempt after attempts of them,
// or false when the schedule is exhausted. harder doubles the scheduled
// delay; a longer retryAfter replaces it (never shortens it).
func (p Policy) Next(attempts int, harder bool, retryAfter time.Duration) (time.Duration, bool) {
	sched := p.Schedule
	if len(sched) == 0 {
		sched = DefaultSchedule
	}
	if attempts < 0 || attempts >= len(sched) {
		return 0, false
	}
	delay := sched[attempts]
	if harder {
		delay *= 2
	}
	if p.Jitter > 0 && delay > 0 {
		rnd := p.Rand
		if rnd == nil {
			rnd = rand.Float64
		}
		delay = time.Duration(float64(delay) * (1 + p.Jitter*(2*rnd()-1)))
	}
	return max(delay, retryAfter), true
}

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP
// date relative to now, capped to [0, MaxRetryAfter]; anything else is 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Clamp before converting: a huge count would overflow.
		d = time.Duration(min(max(n, 0), int64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
