package api

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestRateLimiterRefillsAndSaysWhenToRetry(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := &Server{cfg: Config{Now: func() time.Time { return now }}, limiter: &rateLimiter{rate: 2}}
	w := httptest.NewRecorder()
	for i := 0; i < 2; i++ {
		if err := s.allowPublish(w, "ten_a", 1); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if err := s.allowPublish(w, "ten_a", 1); err == nil || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("third event: %v, Retry-After %q", err, w.Header().Get("Retry-After"))
	}
	if err := s.allowPublish(httptest.NewRecorder(), "ten_b", 1); err != nil {
		t.Fatalf("another tenant: %v", err)
	}
	now = now.Add(500 * time.Millisecond) // one token back
	if err := s.allowPublish(httptest.NewRecorder(), "ten_a", 1); err != nil {
		t.Fatalf("after refill: %v", err)
	}
}
