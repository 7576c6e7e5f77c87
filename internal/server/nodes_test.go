package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
	"github.com/slotwire/slotwire/internal/store"
)

// TestOperatorView: what an operator's dashboard reads with the admin
// token. The node lists itself with its role, version, a recent heartbeat
// and the delivery it is sending; the queue holds the deliveries to a
// receiver that is down; tenants carry their endpoint count and 24 h
// figures. A tenant key gets 401 on each of these routes.
func TestOperatorView(t *testing.T) {
	t.Parallel()
	cfg := fast()
	cfg.Delivery.Schedule = []time.Duration{0, time.Hour} // a failed attempt waits an hour
	cfg.HeartbeatInterval = 50 * time.Millisecond
	cfg.NodeID = "node-under-test"
	e := start(t, cfg)
	c, idle := e.tenant("Acme"), e.tenant("Idle")
	ctx := context.Background()
	release := make(chan struct{})
	rc := receiver.New(func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select { // held until released, or until the node gives up
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	defer rc.Close()
	endpoint(t, c, rc.URL+"/ok", "o.*")
	endpoint(t, c, "http://127.0.0.1:9/down", "o.*") // nothing listens
	endpoint(t, c, rc.URL+"/slow", "slow")

	// The node, sending one delivery that the receiver holds.
	publish(t, c, "slow", map[string]int{}, "")
	var self client.Node
	e.eventually(func() bool {
		ns, err := e.admin.ListNodes(ctx)
		if err != nil || len(ns) != 1 {
			t.Fatalf("ListNodes = %+v, %v", ns, err)
		}
		self = ns[0]
		return self.InFlight == 1
	})
	close(release)
	if self.ID != "node-under-test" || self.Role != server.RoleAll || self.Version != slotwire.Version || self.Host == "" ||
		!self.Alive || time.Since(self.HeartbeatAt) > 5*time.Second || self.StartedAt.After(self.HeartbeatAt) {
		t.Fatalf("node = %+v", self)
	}
	e.eventually(func() bool { // the heartbeat goes on, and the delivery ended
		ns, err := e.admin.ListNodes(ctx)
		return err == nil && ns[0].HeartbeatAt.After(self.HeartbeatAt) && ns[0].InFlight == 0
	})

	// Three events: delivered to /ok, pending after a failed attempt to
	// the receiver that is down.
	before := time.Now()
	for range 3 {
		publish(t, c, "o.x", map[string]int{}, "")
	}
	if !rc.WaitCount(4, 10*time.Second) { // the slow one and three
		t.Fatalf("%d requests", rc.Count())
	}
	var q *client.QueueStatus
	e.eventually(func() bool {
		var err error
		q, err = e.admin.Queue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return q.Pending == 3 && retried(t, c, "o.x") == 3
	})
	if q.OldestCreatedAt == nil || q.OldestCreatedAt.Before(before.Add(-time.Second)) || q.OldestAgeSeconds == nil ||
		*q.OldestAgeSeconds < 0 || *q.OldestAgeSeconds > 30 {
		t.Fatalf("queue = %+v", q)
	}

	// Tenants with their figures: 3 endpoints, 4 succeeded, 3 retrying.
	var ts []client.TenantFigures
	e.eventually(func() bool {
		var err error
		if ts, err = e.admin.ListTenantFigures(ctx); err != nil || len(ts) != 2 {
			t.Fatalf("ListTenantFigures = %+v, %v", ts, err)
		}
		return ts[0].Deliveries24h.Succeeded == 4
	})
	a, b := ts[0], ts[1]
	if a.Name != "Acme" || a.Plan != "unlimited" || a.EndpointCount != 3 || a.Deliveries24h.Retrying != 3 ||
		a.Deliveries24h.Failed != 0 || a.Deliveries24h.SuccessRate == nil || *a.Deliveries24h.SuccessRate != 1 {
		t.Fatalf("Acme = %+v", a)
	}
	if b.Name != "Idle" || b.EndpointCount != 0 || b.Deliveries24h != (client.StatsWindow{}) {
		t.Fatalf("Idle = %+v", b)
	}
	if plain, err := e.admin.ListTenants(ctx); err != nil || len(plain) != 2 {
		t.Fatalf("ListTenants = %+v, %v", plain, err)
	}
	err := e.admin.Do(ctx, http.MethodGet, "/v1/tenants?include=everything", nil, nil)
	apiErr(t, err, http.StatusBadRequest, "invalid_request")
	err = e.admin.Do(ctx, http.MethodGet, "/v1/nodes?x=1", nil, nil)
	apiErr(t, err, http.StatusBadRequest, "invalid_request")

	// A tenant key is not the admin token.
	for _, k := range []*client.Client{c, idle} {
		_, err := k.ListNodes(ctx)
		apiErr(t, err, http.StatusUnauthorized, "unauthorized")
		_, err = k.Queue(ctx)
		apiErr(t, err, http.StatusUnauthorized, "unauthorized")
		_, err = k.ListTenantFigures(ctx)
		apiErr(t, err, http.StatusUnauthorized, "unauthorized")
	}
}

// retried counts the tenant's deliveries of events of type typ that are
// pending after one attempt.
func retried(t *testing.T, c *client.Client, typ string) int {
	t.Helper()
	var l client.Page[client.Delivery]
	if err := c.Do(context.Background(), http.MethodGet, "/v1/deliveries?status=retrying&event_type="+typ, nil, &l); err != nil {
		t.Fatal(err)
	}
	return len(l.Data)
}

// TestNodeRowLifecycle: a node removes the rows of nodes silent for a day
// when it starts, and its own row when it stops cleanly.
func TestNodeRowLifecycle(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "slotwire.db")
	st, err := server.OpenStore(context.Background(), db, server.StoreOptions{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-25 * time.Hour)
	recent := time.Now().Add(-time.Hour)
	for id, at := range map[string]time.Time{"dead": old, "quiet": recent} {
		if err := st.Heartbeat(context.Background(), store.NodeInfo{ID: id, Role: "worker", Version: "v0", StartedAt: at, HeartbeatAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := fast()
	cfg.DB, cfg.NodeID, cfg.Role = db, "api-1", server.RoleAPI
	cfg.Addr, cfg.AdminToken = "127.0.0.1:0", adminToken
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := client.New(n.URL(), adminToken).ListNodes(context.Background())
	if err != nil || len(ns) != 2 || ns[0].ID != "api-1" || ns[0].Role != "api" || !ns[0].Alive || ns[0].InFlight != 0 ||
		ns[1].ID != "quiet" || ns[1].Alive {
		t.Fatalf("ListNodes = %+v, %v", ns, err)
	}
	n.Close()
	st, err = server.OpenStore(context.Background(), db, server.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if left, err := st.ListNodes(context.Background()); err != nil || len(left) != 1 || left[0].ID != "quiet" {
		t.Fatalf("after a clean stop: %+v, %v", left, err)
	}
}
