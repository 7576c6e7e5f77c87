package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
)

// lockedBuffer is a log destination the test reads while the node writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every attempt is logged (debug) with the ids an operator searches by; a
// delivery that failed for good warns; the endpoint's URL token and
// signing secret never appear.
func TestAttemptLogsCarryIDs(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0}
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, cfg)
	c := e.tenant("Acme")
	ctx := context.Background()
	rc := receiver.New(func(n int, w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "fail") {
			w.WriteHeader(500)
		}
	})
	defer rc.Close()
	ok := endpoint(t, c, rc.URL+"/?token=tok-ok-123", "visit.created")
	bad := endpoint(t, c, rc.URL+"/?token=tok-fail-456", "visit.created")
	id := publish(t, c, "visit.created", map[string]int{"n": 1}, "")
	type line struct {
		Level, Msg, Delivery, Event, Endpoint, Outcome string
		StatusCode                                     int `json:"status_code"`
	}
	var got map[string]line
	e.eventually(func() bool {
		got = map[string]line{}
		for _, s := range strings.Split(logs.String(), "\n") {
			var l line
			if json.Unmarshal([]byte(s), &l) == nil && l.Msg == "delivery attempt" && l.Event == id {
				got[l.Endpoint] = l
			}
		}
		return len(got) == 2
	})
	if l := got[ok]; l.Level != "DEBUG" || l.Outcome != "succeeded" || !strings.HasPrefix(l.Delivery, "dlv_") {
		t.Fatalf("success line = %+v", l)
	}
	if l := got[bad]; l.Level != "WARN" || l.Outcome != "failed" || l.StatusCode != 500 {
		t.Fatalf("failure line = %+v", l)
	}
	var sec struct {
		Secret string `json:"secret"`
	}
	if err := c.Do(ctx, "GET", "/v1/endpoints/"+ok+"/secret", nil, &sec); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"tok-ok-123", "tok-fail-456", sec.Secret, strings.TrimPrefix(sec.Secret, "whsec_")} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the logs contain %q", secret)
		}
	}
}
