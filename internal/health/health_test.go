package health

import (
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	p := Policy{DisableAfter: 24 * time.Hour}
	for _, c := range []struct {
		name      string
		state     store.EndpointState
		batch     store.Health
		failing   *time.Time
		disable   bool
		reason    string
		recovered bool
	}{
		{"healthy stays healthy", store.EndpointState{Enabled: true}, store.Health{Succeeded: true}, nil, false, "", false},
		{"first failure starts a run", store.EndpointState{Enabled: true}, store.Health{FailingSince: now.Add(-time.Minute)}, at(-time.Minute), false, "", false},
		{"a run keeps its start", store.EndpointState{Enabled: true, FailingSince: at(-time.Hour)}, store.Health{FailingSince: now}, at(-time.Hour), false, "", false},
		{"success ends a run", store.EndpointState{Enabled: true, FailingSince: at(-time.Hour)}, store.Health{Succeeded: true}, nil, false, "", true},
		{"success then failure starts anew", store.EndpointState{Enabled: true, FailingSince: at(-time.Hour)}, store.Health{Succeeded: true, FailingSince: now}, at(0), false, "", true},
		{"failing too long disables", store.EndpointState{Enabled: true, FailingSince: at(-25 * time.Hour)}, store.Health{FailingSince: now}, at(-25 * time.Hour), true, "every attempt failed for 24h0m0s", false},
		{"exactly the limit disables", store.EndpointState{Enabled: true, FailingSince: at(-24 * time.Hour)}, store.Health{FailingSince: now}, at(-24 * time.Hour), true, "every attempt failed for 24h0m0s", false},
		{"410 disables at once", store.EndpointState{Enabled: true}, store.Health{FailingSince: now, DisableReason: "receiver answered 410 Gone"}, at(0), true, "receiver answered 410 Gone", false},
		{"already disabled stays quiet", store.EndpointState{Enabled: false, FailingSince: at(-48 * time.Hour)}, store.Health{FailingSince: now}, at(-48 * time.Hour), false, "", false},
	} {
		d := p.Decide(c.state, c.batch, now)
		same := (d.FailingSince == nil) == (c.failing == nil) && (d.FailingSince == nil || d.FailingSince.Equal(*c.failing))
		if !same || d.Disable != c.disable || d.Reason != c.reason || d.Recovered != c.recovered {
			t.Errorf("%s: got %+v (failing %v)", c.name, d, d.FailingSince)
		}
	}
	// A REST hook whose target answers 410 is deleted, not disabled.
	d := p.Decide(store.EndpointState{Enabled: true, RESTHook: true}, store.Health{FailingSince: now, DisableReason: "receiver answered 410 Gone"}, now)
	if !d.Delete || d.Disable || !strings.Contains(d.Reason, "410") {
		t.Errorf("REST hook after a 410: %+v", d)
	}
	never := Policy{}
	if d := never.Decide(store.EndpointState{Enabled: true, FailingSince: at(-1000 * time.Hour)}, store.Health{FailingSince: now}, now); d.Disable {
		t.Error("DisableAfter 0 disabled an endpoint")
	}
}
