package storetest

import (
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

func testSlots(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	acq := func(owner string, want, max int, now time.Time) int {
		t.Helper()
		n, err := s.AcquireSlots(ctx(), ep.ID, owner, want, max, now, now.Add(time.Minute))
		must(t, err)
		return n
	}
	if n := acq("a", 2, 3, t0); n != 2 {
		t.Fatalf("a got %d, want 2", n)
	}
	if n := acq("b", 3, 3, t0); n != 1 {
		t.Fatalf("b got %d of the 1 left", n)
	}
	if n := acq("a", 2, 3, t0.Add(time.Second)); n != 2 {
		t.Fatalf("a renewing got %d", n)
	}
	if n := acq("c", 1, 3, t0.Add(time.Second)); n != 0 {
		t.Fatalf("c got %d while all are held", n)
	}
	must(t, s.ReleaseSlots(ctx(), ep.ID, "b"))
	if n := acq("c", 1, 3, t0.Add(time.Second)); n != 1 {
		t.Fatalf("c got %d after b released", n)
	}
	// Giving back: a wants fewer.
	if n := acq("a", 1, 3, t0.Add(time.Second)); n != 1 {
		t.Fatalf("a shrinking holds %d", n)
	}
	// Leases end: another owner takes expired slots.
	later := t0.Add(5 * time.Minute)
	if n := acq("d", 3, 3, later); n != 3 {
		t.Fatalf("d got %d of 3 expired slots", n)
	}
	if n := acq("a", 3, 3, later); n != 0 {
		t.Fatalf("a got %d while d holds all", n)
	}
	// A lower bound takes effect at once.
	if n := acq("d", 3, 1, later); n != 1 {
		t.Fatalf("d holds %d after max became 1", n)
	}
	// Unknown endpoints have no slots.
	n, err := s.AcquireSlots(ctx(), "ep_nope", "a", 1, 1, later, later.Add(time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("unknown endpoint: %d, %v", n, err)
	}
}
