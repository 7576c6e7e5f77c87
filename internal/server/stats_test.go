package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// Statistics against a hand-counted fixture: 5 events answered 200, 2
// answered 500 then 200, 3 always 500 (failed after three attempts), 1
// answered 429 with Retry-After an hour (retrying). A second endpoint gets
// only the 5; another tenant sees nothing of it.
func TestStatsHandCounted(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond}
	e := start(t, cfg)
	c, other := e.tenant("Acme"), e.tenant("Other")
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	rc := receiver.New(func(_ int, w http.ResponseWriter, r *http.Request) {
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		seen[ev.ID]++
		n := seen[ev.ID]
		mu.Unlock()
		switch {
		case ev.Type == "s.flaky" && n == 1, ev.Type == "s.bad":
			w.WriteHeader(http.StatusInternalServerError)
		case ev.Type == "s.later":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	defer rc.Close()
	a := endpoint(t, c, rc.URL, "s.*")
	b := endpoint(t, c, rc.URL, "s.ok")
	for typ, n := range map[string]int{"s.ok": 5, "s.flaky": 2, "s.bad": 3, "s.later": 1} {
		for range n {
			publish(t, c, typ, map[string]int{}, "")
		}
	}
	// 5 + 2×2 + 3×3 + 1 to a, 5 to b.
	if !rc.WaitCount(24, 10*time.Second) {
		t.Fatalf("%d requests", rc.Count())
	}
	var sa *client.Stats
	e.eventually(func() bool {
		var err error
		sa, err = c.EndpointStats(ctx, a)
		w := sa.Windows["1h"]
		return err == nil && w.Succeeded == 7 && w.Failed == 3 && w.Retrying == 1
	})
	for _, name := range []string{"1h", "24h", "7d", "30d"} {
		w := sa.Windows[name]
		if w.Succeeded != 7 || w.Failed != 3 || w.Retrying != 1 || w.SuccessRate == nil || *w.SuccessRate != 0.7 ||
			w.P50MS == nil || w.P95MS == nil || *w.P95MS < *w.P50MS {
			t.Fatalf("window %s = %+v", name, w)
		}
	}
	now := time.Now()
	if sa.LastSuccessAt == nil || now.Sub(*sa.LastSuccessAt) > time.Minute || sa.LastFailureAt == nil ||
		len(sa.Hourly) != 24 || sa.Hourly[23].Succeeded != 7 || sa.Hourly[23].Failed != 3 || sa.Hourly[23].Retrying != 1 ||
		!sa.Hourly[23].Hour.Equal(now.Truncate(time.Hour)) || sa.Hourly[0].Succeeded != 0 {
		t.Fatalf("endpoint stats = %+v", sa)
	}
	var all *client.Stats
	e.eventually(func() bool {
		var err error
		all, err = c.Stats(ctx)
		return err == nil && all.Windows["24h"].Succeeded == 12
	})
	if w := all.Windows["24h"]; w.Failed != 3 || w.Retrying != 1 {
		t.Fatalf("tenant stats = %+v", w)
	}
	if bs, err := c.EndpointStats(ctx, b); err != nil || bs.Windows["1h"].Succeeded != 5 || *bs.Windows["1h"].SuccessRate != 1 ||
		bs.LastFailureAt != nil {
		t.Fatalf("endpoint b = %+v, %v", bs, err)
	}
	os, err := other.Stats(ctx)
	if w := os.Windows["30d"]; err != nil || w.Succeeded+w.Failed+w.Retrying != 0 || w.SuccessRate != nil || w.P50MS != nil ||
		os.LastSuccessAt != nil {
		t.Fatalf("other tenant = %+v, %v", os, err)
	}
	if _, err := other.EndpointStats(ctx, a); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("another tenant's endpoint: %v", err)
	}
	if err := c.Do(ctx, "GET", "/v1/stats?window=1h", nil, nil); err == nil || !strings.Contains(err.Error(), "unknown query parameter") {
		t.Fatalf("unknown parameter: %v", err)
	}
}
