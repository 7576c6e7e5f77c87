package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// testNodes: a heartbeat inserts a node's row, the next replaces it; rows
// are listed by id; silent nodes are removed, and a node removes its own.
func testNodes(t *testing.T, s store.Store) {
	list := func() []store.NodeInfo {
		t.Helper()
		ns, err := s.ListNodes(ctx())
		must(t, err)
		return ns
	}
	if ns := list(); len(ns) != 0 {
		t.Fatalf("empty registry lists %+v", ns)
	}
	b := store.NodeInfo{ID: "host-b/:8080", Role: "worker", Version: "v1", Host: "host-b", StartedAt: t0, HeartbeatAt: t0, InFlight: 3}
	a := store.NodeInfo{ID: "host-a/:8080", Role: "all", Version: "v1", StartedAt: t0, HeartbeatAt: t0}
	must(t, s.Heartbeat(ctx(), b))
	must(t, s.Heartbeat(ctx(), a))
	if ns := list(); !reflect.DeepEqual(ns, []store.NodeInfo{a, b}) {
		t.Fatalf("nodes = %+v", ns)
	}
	// The next beat replaces the row; a restart with the same id too.
	b.HeartbeatAt, b.InFlight = t0.Add(10*time.Second+123*time.Millisecond), 0
	a.StartedAt, a.HeartbeatAt, a.Role, a.Version = t0.Add(time.Hour), t0.Add(time.Hour), "api", "v2"
	must(t, s.Heartbeat(ctx(), b))
	must(t, s.Heartbeat(ctx(), a))
	if ns := list(); !reflect.DeepEqual(ns, []store.NodeInfo{a, b}) {
		t.Fatalf("after beats, nodes = %+v", ns)
	}
	n, err := s.RemoveStaleNodes(ctx(), t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("removed %d stale nodes, %v; want b's", n, err)
	}
	if ns := list(); !reflect.DeepEqual(ns, []store.NodeInfo{a}) {
		t.Fatalf("after removing stale ones, nodes = %+v", ns)
	}
	must(t, s.RemoveNode(ctx(), a.ID))
	must(t, s.RemoveNode(ctx(), a.ID)) // gone already: no error
	if ns := list(); len(ns) != 0 {
		t.Fatalf("after removing a, nodes = %+v", ns)
	}
}

// testFigures: endpoints are counted by tenant, and statistics buckets
// summed by tenant from a time on.
func testFigures(t *testing.T, s store.Store) {
	ten, other, none := newTenant(t, s, "Acme"), newTenant(t, s, "Other"), newTenant(t, s, "None")
	ep1, ep2 := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*")
	ep3 := newEndpoint(t, s, other, "*")
	counts, err := s.EndpointCounts(ctx())
	must(t, err)
	if !reflect.DeepEqual(counts, map[string]int{ten.ID: 2, other.ID: 1}) {
		t.Fatalf("endpoint counts = %v (tenant %s has none)", counts, none.ID)
	}
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(other, "a.b", "", t0))
	later := t0.Add(2 * time.Hour)
	ingest(t, s, later, newEvent(ten, "a.b", "", later))
	var jobs []*store.Job
	for _, ep := range []string{ep1.ID, ep2.ID, ep3.ID} {
		jobs = append(jobs, claim(t, s, ep, "n", later, 10)...)
	}
	var outs []store.Outcome
	for _, j := range jobs {
		status := slotwire.StatusSucceeded
		if j.Endpoint.ID == ep2.ID {
			status = slotwire.StatusFailed
		}
		outs = append(outs, outcome(j, "n", status, later, 200))
	}
	_, err = complete(s, outs, later, 0)
	must(t, err)
	all, err := s.TenantStats(ctx(), "h", t0)
	must(t, err)
	if len(all) != 2 || all[ten.ID].Succeeded != 2 || all[ten.ID].Failed != 2 || all[ten.ID].Latency[5] != 4 ||
		all[other.ID].Succeeded != 1 || all[other.ID].LastSuccess != later.UnixMilli() {
		t.Fatalf("tenant stats since t0 = %+v", all)
	}
	// From the later hour on: only what was created then (the attempts
	// of the older deliveries were made then too).
	recent, err := s.TenantStats(ctx(), "h", later)
	must(t, err)
	if r := recent[ten.ID]; r.Succeeded != 1 || r.Failed != 1 || r.Latency[5] != 4 || recent[other.ID].Succeeded != 0 {
		t.Fatalf("tenant stats since later = %+v", recent)
	}
}
