package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// keyedEvent is an event with an ordering key.
func keyedEvent(ten *slotwire.Tenant, key string) *slotwire.Event {
	e := newEvent(ten, "a.b", "", t0)
	e.OrderingKey = key
	return e
}

// claimedKeys claims and returns the ordering keys of what was claimed,
// sorted, with the jobs by key.
func claimedKeys(t *testing.T, s store.Store, ep string, now time.Time) ([]string, map[string]*store.Job) {
	t.Helper()
	jobs := claim(t, s, ep, "n", now, 100)
	keys, byKey := []string{}, map[string]*store.Job{}
	for _, j := range jobs {
		k := j.Delivery.OrderingKey
		if _, dup := byKey[k]; dup && k != "" {
			t.Fatalf("claimed two deliveries of key %q at once", k)
		}
		keys, byKey[k] = append(keys, k), j
	}
	sort.Strings(keys)
	return keys, byKey
}

func testClaimKeyed(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ep.Ordering = slotwire.OrderingKey
	must(t, s.UpdateEndpoint(ctx(), ep))
	plain := newEndpoint(t, s, ten, "*") // unordered: keys are not kept

	a1, b1, a2, free, a3, b2 := keyedEvent(ten, "A"), keyedEvent(ten, "B"), keyedEvent(ten, "A"),
		keyedEvent(ten, ""), keyedEvent(ten, "A"), keyedEvent(ten, "B")
	ingest(t, s, t0, a1, b1, a2, free, a3, b2)
	if got, err := s.GetEvent(ctx(), ten.ID, a1.ID); err != nil || got.OrderingKey != "A" {
		t.Fatalf("stored event ordering key = %+v, %v", got, err)
	}
	if jobs := claim(t, s, plain.ID, "n", t0, 100); len(jobs) != 6 || jobs[0].Delivery.OrderingKey != "" {
		t.Fatalf("unordered endpoint: claimed %d, key %q", len(jobs), jobs[0].Delivery.OrderingKey)
	}

	// The head of each key and every keyless delivery, nothing behind a head.
	keys, byKey := claimedKeys(t, s, ep.ID, t0)
	if want := []string{"", "A", "B"}; !equal(keys, want) {
		t.Fatalf("first claim keys = %v, want %v", keys, want)
	}
	if byKey["A"].Delivery.EventID != a1.ID || byKey["B"].Delivery.EventID != b1.ID {
		t.Fatal("first claim did not take the oldest delivery of each key")
	}
	if keys, _ := claimedKeys(t, s, ep.ID, t0); len(keys) != 0 {
		t.Fatalf("claimed %v while each key has one in flight", keys)
	}

	// B succeeds: B's next is claimable. A fails and waits for a retry: it
	// holds its key.
	retry := outcome(byKey["A"], "n", slotwire.StatusPending, t0, 500)
	retry.NextAttemptAt = t0.Add(time.Minute)
	_, err := complete(s, []store.Outcome{retry, outcome(byKey["B"], "n", slotwire.StatusSucceeded, t0, 200)}, t0, 0)
	must(t, err)
	keys, byKey = claimedKeys(t, s, ep.ID, t0.Add(time.Second))
	if !equal(keys, []string{"B"}) || byKey["B"].Delivery.EventID != b2.ID {
		t.Fatalf("after B succeeded and A waits for a retry: claimed %v", keys)
	}
	keys, byKey = claimedKeys(t, s, ep.ID, t0.Add(time.Minute))
	if !equal(keys, []string{"A"}) || byKey["A"].Delivery.EventID != a1.ID {
		t.Fatalf("the retry of A's head: claimed %v", keys)
	}
	// A's head fails for good: the key moves on, in order.
	_, err = complete(s, []store.Outcome{outcome(byKey["A"], "n", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	_, byKey = claimedKeys(t, s, ep.ID, t0.Add(time.Minute))
	if byKey["A"] == nil || byKey["A"].Delivery.EventID != a2.ID {
		t.Fatal("A did not move on to its second delivery after the head failed for good")
	}
	// A lease that runs out hands the delivery back; it is still A's head.
	must(t, errOf(s.ReclaimExpired(ctx(), t0.Add(3*time.Minute))))
	_, byKey = claimedKeys(t, s, ep.ID, t0.Add(3*time.Minute))
	if byKey["A"] == nil || byKey["A"].Delivery.EventID != a2.ID {
		t.Fatal("after its lease ran out, A's second delivery was not claimed again first")
	}
	_, _ = free, a3
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
