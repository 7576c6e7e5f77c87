package storetest

import (
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// testStats: outcomes move deliveries between the counts of their
// creation bucket (a retry that succeeds leaves retrying), attempts fill
// the histogram and last times of theirs; the tenant's buckets sum its
// endpoints; pruning and deleting an endpoint remove buckets.
func testStats(t *testing.T, s store.Store) {
	ten, other := newTenant(t, s, "Acme"), newTenant(t, s, "Other")
	ep1, ep2 := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*")
	newEndpoint(t, s, other, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0),
		newEvent(other, "a.b", "", t0))
	j1 := claim(t, s, ep1.ID, "n", t0, 10)
	j2 := claim(t, s, ep2.ID, "n", t0, 10)
	if len(j1) != 3 || len(j2) != 3 {
		t.Fatalf("claimed %d, %d", len(j1), len(j2))
	}
	retry := outcome(j1[1], "n", slotwire.StatusPending, t0, 500)
	retry.NextAttemptAt = t0
	_, err := complete(s, []store.Outcome{outcome(j1[0], "n", slotwire.StatusSucceeded, t0, 200), retry,
		outcome(j1[2], "n", slotwire.StatusFailed, t0, 400), outcome(j2[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	wantBuckets(t, s, ten.ID, ep1.ID, store.StatsCounts{Succeeded: 1, Failed: 1, Retrying: 1})
	// The retry succeeds an hour later: the delivery moves from retrying
	// to succeeded in its creation bucket; the attempt is in the later one.
	later := t0.Add(time.Hour + time.Minute)
	j := claim(t, s, ep1.ID, "n", later, 10)
	_, err = complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, later, 204)}, later, 0)
	must(t, err)
	hours := wantBuckets(t, s, ten.ID, ep1.ID, store.StatsCounts{Succeeded: 2, Failed: 1})
	if len(hours) != 2 || hours[1].Succeeded != 0 || hours[1].Latency[5] != 1 || hours[1].LastSuccess != later.UnixMilli() ||
		hours[0].Latency[5] != 3 || hours[0].LastFailure != t0.UnixMilli() {
		t.Fatalf("hour buckets = %+v", hours)
	}
	all, err := s.StatsBuckets(ctx(), ten.ID, "", "h", t0)
	must(t, err)
	if len(all) != 2 || all[0].Succeeded != 3 || all[0].Failed != 1 || all[0].Latency[5] != 4 {
		t.Fatalf("tenant buckets = %+v", all)
	}
	n, err := s.PruneStats(ctx(), "m", t0.Add(time.Hour))
	must(t, err)
	if n != 2 { // ep1's and ep2's minute at t0; the later minute stays
		t.Fatalf("pruned %d", n)
	}
	must(t, s.DeleteEndpoint(ctx(), ten.ID, ep1.ID))
	all, err = s.StatsBuckets(ctx(), ten.ID, "", "h", t0)
	must(t, err)
	if len(all) != 1 || all[0].Succeeded != 1 || all[0].Failed != 0 {
		t.Fatalf("after deleting an endpoint = %+v", all)
	}
}

// wantBuckets checks the creation hour's counts of an endpoint (hour and
// minute buckets agree) and returns its hour buckets.
func wantBuckets(t *testing.T, s store.Store, tenantID, endpointID string, want store.StatsCounts) []store.StatsBucket {
	t.Helper()
	hours, err := s.StatsBuckets(ctx(), tenantID, endpointID, "h", t0.Add(-time.Hour))
	must(t, err)
	minutes, err := s.StatsBuckets(ctx(), tenantID, endpointID, "m", t0)
	must(t, err)
	for _, b := range [][]store.StatsBucket{hours, minutes} {
		if len(b) == 0 || !b[0].Start.Equal(t0) || b[0].Succeeded != want.Succeeded || b[0].Failed != want.Failed ||
			b[0].Retrying != want.Retrying {
			t.Fatalf("buckets = %+v, want counts %+v", b, want)
		}
	}
	return hours
}

// testStatsStale: only outcomes that move their delivery count. A stale
// outcome (its lease passed to another owner) and one of an endpoint
// deleted meanwhile leave the statistics as they were.
func testStatsStale(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep, gone := newEndpoint(t, s, ten, "*"), newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 10)
	g := claim(t, s, gone.ID, "n", t0, 10)
	if len(j) != 1 || len(g) != 1 {
		t.Fatalf("claimed %d, %d", len(j), len(g))
	}
	_, err := complete(s, []store.Outcome{outcome(j[0], "someone-else", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	must(t, s.DeleteEndpoint(ctx(), ten.ID, gone.ID))
	_, err = complete(s, []store.Outcome{outcome(g[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	for _, id := range []string{ep.ID, gone.ID, ""} {
		b, err := s.StatsBuckets(ctx(), ten.ID, id, "h", t0.Add(-time.Hour))
		must(t, err)
		if len(b) != 0 {
			t.Fatalf("buckets of %q after stale outcomes = %+v", id, b)
		}
	}
	// The owner's outcome still counts once.
	_, err = complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200),
		outcome(j[0], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	wantBuckets(t, s, ten.ID, ep.ID, store.StatsCounts{Succeeded: 1})
}
