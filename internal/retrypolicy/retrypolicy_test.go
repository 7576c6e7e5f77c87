package retrypolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
)

func TestNext(t *testing.T) {
	t.Parallel()
	p := Policy{Schedule: []time.Duration{0, time.Second, time.Minute}}
	cases := []struct {
		attempts   int
		harder     bool
		retryAfter time.Duration
		want       time.Duration
		ok         bool
	}{
		{1, false, 0, time.Second, true},
		{2, false, 0, time.Minute, true},
		{3, false, 0, 0, false},                              // schedule exhausted
		{1, true, 0, 2 * time.Second, true},                  // 429/502/503/504/timeouts back off harder
		{1, false, 30 * time.Second, 30 * time.Second, true}, // Retry-After longer than the schedule wins
		{2, false, time.Second, time.Minute, true},           // but never shortens it
	}
	for _, c := range cases {
		got, ok := p.Next(c.attempts, c.harder, c.retryAfter)
		if got != c.want || ok != c.ok {
			t.Errorf("Next(%d, %v, %s) = %s, %v; want %s, %v", c.attempts, c.harder, c.retryAfter, got, ok, c.want, c.ok)
		}
	}
}

func TestNextDefaultSchedule(t *testing.T) {
	t.Parallel()
	var p Policy
	for i, want := range DefaultSchedule {
		if got, ok := p.Next(i, false, 0); !ok || got != want {
			t.Errorf("Next(%d) = %s, %v; want %s", i, got, ok, want)
		}
	}
	if _, ok := p.Next(len(DefaultSchedule), false, 0); ok {
		t.Errorf("%d attempts: schedule should be exhausted", len(DefaultSchedule))
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.5, 0.999999} {
		p := Policy{Schedule: []time.Duration{0, 10 * time.Second}, Jitter: 0.1, Rand: func() float64 { return r }}
		got, _ := p.Next(1, false, 0)
		if got < 9*time.Second || got > 11*time.Second {
			t.Errorf("rand %v: jittered delay %s outside ±10%%", r, got)
		}
	}
	p := Policy{Schedule: []time.Duration{0, 10 * time.Second}, Jitter: 0.1}
	for i := 0; i < 100; i++ {
		if got, _ := p.Next(1, false, 0); got < 9*time.Second || got > 11*time.Second {
			t.Fatalf("jittered delay %s outside ±10%%", got)
		}
	}
	if got, _ := p.Next(0, false, 0); got != 0 {
		t.Errorf("an immediate attempt is never jittered: got %s", got)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	p := Policy{Schedule: []time.Duration{0, time.Second, time.Minute}}
	timeout := fmt.Errorf("timeout after 15s: %w", context.DeadlineExceeded)
	cases := []struct {
		name     string
		attempts int
		r        Result
		want     Decision
	}{
		{"2xx", 1, Result{StatusCode: 204}, Decision{Status: slotwire.StatusSucceeded}},
		{"500 retries", 1, Result{StatusCode: 500}, Decision{Status: slotwire.StatusPending, Delay: time.Second, Error: "HTTP 500"}},
		{"503 harder", 1, Result{StatusCode: 503}, Decision{Status: slotwire.StatusPending, Delay: 2 * time.Second, Error: "HTTP 503"}},
		{"429 with Retry-After", 1, Result{StatusCode: 429, RetryAfter: time.Hour}, Decision{Status: slotwire.StatusPending, Delay: time.Hour, Error: "HTTP 429"}},
		{"redirect is a failure", 1, Result{StatusCode: 302}, Decision{Status: slotwire.StatusPending, Delay: time.Second, Error: "HTTP 302"}},
		{"timeout harder", 2, Result{Err: timeout}, Decision{Status: slotwire.StatusPending, Delay: 2 * time.Minute, Error: timeout.Error()}},
		{"network error", 1, Result{Err: errors.New("connection refused")}, Decision{Status: slotwire.StatusPending, Delay: time.Second, Error: "connection refused"}},
		{"last attempt fails", 3, Result{StatusCode: 500}, Decision{Status: slotwire.StatusFailed, Error: "HTTP 500"}},
		{"e-mail accepted", 1, Result{Accepted: true}, Decision{Status: slotwire.StatusSucceeded}},
		{"transient SMTP reply retries", 1, Result{Err: errors.New("SMTP 451 4.7.1 greylisted (RCPT TO)")},
			Decision{Status: slotwire.StatusPending, Delay: time.Second, Error: "SMTP 451 4.7.1 greylisted (RCPT TO)"}},
		{"permanent error fails at once", 1, Result{Err: errors.New("SMTP 550 5.1.1 unknown (RCPT TO)"), Permanent: true},
			Decision{Status: slotwire.StatusFailed, Error: "SMTP 550 5.1.1 unknown (RCPT TO)"}},
		{"410 disables at once", 1, Result{StatusCode: http.StatusGone}, Decision{Status: slotwire.StatusFailed, Error: "HTTP 410 Gone", DisableReason: "the endpoint answered 410 Gone"}},
	}
	for _, c := range cases {
		if got := p.Decide(c.attempts, c.r); got != c.want {
			t.Errorf("%s: Decide = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                     0,
		"120":                  2 * time.Minute,
		" 5 ":                  5 * time.Second,
		"-3":                   0,
		"-9223372036854775807": 0,
		"soon":                 0,
		"99999999999":          MaxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		now.Add(48 * time.Hour).Format(http.TimeFormat):   MaxRetryAfter,
	}
	for in, want := range cases {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1e9", "9223372036854775807", "-9223372036854775808"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d := ParseRetryAfter(s, now); d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %s, outside [0, 24h]", s, d)
		}
	})
}

func FuzzNext(f *testing.F) {
	f.Add(1, false, int64(0), 0.5)
	f.Add(7, true, int64(time.Hour), 0.0)
	f.Fuzz(func(t *testing.T, attempts int, harder bool, retryAfter int64, r float64) {
		if r < 0 || r >= 1 || retryAfter < 0 || retryAfter > int64(MaxRetryAfter) {
			t.Skip()
		}
		p := Policy{Jitter: 0.1, Rand: func() float64 { return r }}
		d, ok := p.Next(attempts, harder, time.Duration(retryAfter))
		if !ok {
			if attempts >= 0 && attempts < len(DefaultSchedule) {
				t.Fatalf("Next(%d) exhausted within the schedule", attempts)
			}
			return
		}
		if d < time.Duration(retryAfter) || d > 2*11*DefaultSchedule[attempts]/10+time.Duration(retryAfter) {
			t.Fatalf("Next(%d, %v, %d) = %s", attempts, harder, retryAfter, d)
		}
	})
}
