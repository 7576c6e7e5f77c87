package dispatch

import (
	"net/http"
	"testing"
	"time"
)

func TestNextDelay(t *testing.T) {
	t.Parallel()
	d := New(Config{Schedule: []time.Duration{0, time.Second, time.Minute}, Jitter: -1})
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
		got, ok := d.nextDelay(c.attempts, c.harder, c.retryAfter)
		if got != c.want || ok != c.ok {
			t.Errorf("nextDelay(%d, %v, %s) = %s, %v; want %s, %v", c.attempts, c.harder, c.retryAfter, got, ok, c.want, c.ok)
		}
	}
	j := New(Config{Schedule: []time.Duration{0, 10 * time.Second}, Jitter: 0.1})
	for i := 0; i < 100; i++ {
		got, _ := j.nextDelay(1, false, 0)
		if got < 9*time.Second || got > 11*time.Second {
			t.Fatalf("jittered delay %s outside ±10%%", got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":            0,
		"120":         2 * time.Minute,
		" 5 ":         5 * time.Second,
		"-3":          0,
		"soon":        0,
		"99999999999": maxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		now.Add(48 * time.Hour).Format(http.TimeFormat):   maxRetryAfter,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "-1", "1e9", "9223372036854775807"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %s, outside [0, 24h]", s, d)
		}
	})
}
