package storetest

import (
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

func testClaimAndComplete(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	jobs := claim(t, s, ep.ID, "n1", t0, 3)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d, want 3", len(jobs))
	}
	for i, j := range jobs {
		if j.Delivery.EventID != evs[i].ID || string(j.Payload) != string(evs[i].Payload) || j.Endpoint.ID != ep.ID {
			t.Fatalf("job %d = %+v", i, j.Delivery)
		}
	}
	rest := claim(t, s, ep.ID, "n2", t0, 10)
	if len(rest) != 2 {
		t.Fatalf("second claim got %d, want 2", len(rest))
	}
	if more := claim(t, s, ep.ID, "n3", t0, 10); len(more) != 0 {
		t.Fatal("claimed leased work twice")
	}
	retryAt := t0.Add(5 * time.Second)
	oc := []store.Outcome{
		outcome(jobs[0], "n1", slotwire.StatusSucceeded, t0, 200),
		outcome(jobs[1], "n1", slotwire.StatusPending, t0, 500),
		outcome(jobs[2], "n1", slotwire.StatusFailed, t0, 400),
	}
	oc[1].NextAttemptAt = retryAt
	oc[1].Attempt.Error = "HTTP 500"
	_, err := complete(s, oc, t0, 0)
	must(t, err)
	d1 := checkCompleted(t, s, ten, jobs, retryAt)
	checkRetry(t, s, ten, ep, d1, retryAt)
	checkStaleAndDisabled(t, s, ten, ep, rest[0])
}

// checkCompleted: a success, a retry and a failure recorded as such.
func checkCompleted(t *testing.T, s store.Store, ten *slotwire.Tenant, jobs []*store.Job, retryAt time.Time) *slotwire.Delivery {
	d0, _ := s.GetDelivery(ctx(), ten.ID, jobs[0].Delivery.ID)
	d1, _ := s.GetDelivery(ctx(), ten.ID, jobs[1].Delivery.ID)
	d2, _ := s.GetDelivery(ctx(), ten.ID, jobs[2].Delivery.ID)
	if d0.Status != slotwire.StatusSucceeded || d0.Attempts != 1 || d0.LastStatusCode != 200 || d0.NextAttemptAt != nil {
		t.Fatalf("d0 = %+v", d0)
	}
	if d1.Status != slotwire.StatusPending || d1.Attempts != 1 || d1.NextAttemptAt == nil || !d1.NextAttemptAt.Equal(retryAt) || d1.LastError != "HTTP 500" {
		t.Fatalf("d1 = %+v", d1)
	}
	if d2.Status != slotwire.StatusFailed || d2.LastStatusCode != 400 {
		t.Fatalf("d2 = %+v", d2)
	}
	// A first attempt that succeeded is listed like any other (the store
	// keeps it in the delivery's row).
	atts, err := s.ListAttempts(ctx(), ten.ID, d0.ID)
	must(t, err)
	if len(atts) != 1 || atts[0].Number != 1 || atts[0].StatusCode != 200 || atts[0].DurationMS != 12 ||
		atts[0].ResponseBody != "ok" || atts[0].Error != "" || !atts[0].At.Equal(t0) ||
		atts[0].RequestHeaders.Map()["Webhook-Id"] != d0.EventID || atts[0].ResponseHeaders != "X-Got: 1\n" {
		t.Fatalf("first attempt that succeeded = %+v", atts)
	}
	return d1
}

// checkRetry: a retry is claimed once due, and its attempts are numbered.
func checkRetry(t *testing.T, s store.Store, ten *slotwire.Tenant, ep *slotwire.Endpoint, d1 *slotwire.Delivery, retryAt time.Time) {
	// Not due yet; due after retryAt.
	if j := claim(t, s, ep.ID, "n1", t0.Add(time.Second), 10); len(j) != 0 {
		t.Fatal("retry claimed before it was due")
	}
	j := claim(t, s, ep.ID, "n1", retryAt, 10)
	if len(j) != 1 || j[0].Delivery.ID != d1.ID || j[0].Delivery.Attempts != 1 {
		t.Fatalf("retry claim = %v", j)
	}
	oc2 := outcome(j[0], "n1", slotwire.StatusSucceeded, retryAt, 204)
	_, err := complete(s, []store.Outcome{oc2}, retryAt, 0)
	must(t, err)
	atts, err := s.ListAttempts(ctx(), ten.ID, d1.ID)
	must(t, err)
	if len(atts) != 2 || atts[0].Number != 1 || atts[0].StatusCode != 500 || atts[0].Error != "HTTP 500" ||
		atts[1].Number != 2 || atts[1].StatusCode != 204 || atts[1].DurationMS != 12 || atts[1].ResponseBody != "ok" || !atts[1].At.Equal(retryAt) ||
		atts[0].ResponseHeaders != "X-Got: 1\n" || atts[1].RequestHeaders.Map()["Webhook-Id"] != d1.EventID {
		t.Fatalf("attempts = %+v %+v", atts[0], atts[1])
	}
}

// checkStaleAndDisabled: a stale outcome from a node that lost its lease
// records the attempt but does not change the delivery; a disabled
// endpoint is neither claimed from nor due.
func checkStaleAndDisabled(t *testing.T, s store.Store, ten *slotwire.Tenant, ep *slotwire.Endpoint, other *store.Job) {
	stale := outcome(other, "someone-else", slotwire.StatusFailed, t0, 500)
	_, err := complete(s, []store.Outcome{stale}, t0, 0)
	must(t, err)
	// A stale success of a first attempt is recorded too, as an attempt.
	staleOK := outcome(other, "someone-else", slotwire.StatusSucceeded, t0.Add(time.Millisecond), 200)
	_, err = complete(s, []store.Outcome{staleOK}, t0, 0)
	must(t, err)
	d, _ := s.GetDelivery(ctx(), ten.ID, other.Delivery.ID)
	if d.Status != slotwire.StatusInflight {
		t.Fatalf("stale outcome applied: %+v", d)
	}
	if atts, err := s.ListAttempts(ctx(), ten.ID, other.Delivery.ID); err != nil || len(atts) != 2 || atts[1].StatusCode != 200 {
		t.Fatalf("stale attempts = %+v, %v", atts, err)
	}
	// A disabled endpoint is not claimed from.
	ep.Enabled = false
	must(t, s.UpdateEndpoint(ctx(), ep))
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	if j := claim(t, s, ep.ID, "n1", t0.Add(time.Hour), 10); len(j) != 0 {
		t.Fatal("claimed from a disabled endpoint")
	}
	due, err := s.DueEndpoints(ctx())
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("disabled endpoint due: %+v", due)
	}
}

func testClaimFIFO(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	fifo := func(now time.Time) []*store.Job {
		jobs, err := s.Claim(ctx(), store.ClaimRequest{EndpointID: ep.ID, Owner: "n", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 10, FIFO: true})
		must(t, err)
		return jobs
	}
	j := fifo(t0)
	if len(j) != 1 || j[0].Delivery.EventID != evs[0].ID {
		t.Fatalf("fifo claim = %v", j)
	}
	if len(fifo(t0)) != 0 {
		t.Fatal("fifo claimed past an in-flight head")
	}
	o := outcome(j[0], "n", slotwire.StatusPending, t0, 500)
	o.NextAttemptAt = t0.Add(time.Minute)
	_, err := complete(s, []store.Outcome{o}, t0, 0)
	must(t, err)
	if len(fifo(t0.Add(time.Second))) != 0 {
		t.Fatal("fifo skipped a head waiting for retry")
	}
	j = fifo(t0.Add(time.Minute))
	if len(j) != 1 || j[0].Delivery.EventID != evs[0].ID {
		t.Fatal("fifo did not retry the head")
	}
	_, err = complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	j = fifo(t0.Add(time.Minute))
	if len(j) != 1 || j[0].Delivery.EventID != evs[1].ID {
		t.Fatal("fifo did not move on after the head failed for good")
	}
	// An endpoint configured for FIFO is claimed in order whatever the
	// request says.
	ordered := newEndpoint(t, s, ten, "only.this")
	ordered.Ordering = slotwire.OrderingFIFO
	must(t, s.UpdateEndpoint(ctx(), ordered))
	ingest(t, s, t0, newEvent(ten, "only.this", "", t0), newEvent(ten, "only.this", "", t0))
	if j := claim(t, s, ordered.ID, "n", t0, 10); len(j) != 1 {
		t.Fatalf("fifo endpoint: claimed %d at once, want 1", len(j))
	}
}

func testLeases(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0))
	jobs := claim(t, s, ep.ID, "dead", t0, 2) // lease until t0+1m
	if n, err := s.ReclaimExpired(ctx(), t0.Add(30*time.Second)); err != nil || n != 0 {
		t.Fatalf("reclaimed %d before expiry (%v)", n, err)
	}
	n, err := s.ReclaimExpired(ctx(), t0.Add(2*time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("reclaimed %d, want 2", n)
	}
	again := claim(t, s, ep.ID, "alive", t0.Add(2*time.Minute), 10)
	if len(again) != 3 {
		t.Fatalf("claimed %d after reclaim, want 3", len(again))
	}
	// The dead node's late outcome does not override the new owner.
	_, err = complete(s, []store.Outcome{outcome(jobs[0], "dead", slotwire.StatusFailed, t0, 500)}, t0, 0)
	must(t, err)
	if d, _ := s.GetDelivery(ctx(), ten.ID, jobs[0].Delivery.ID); d.Status != slotwire.StatusInflight {
		t.Fatalf("dead node's outcome applied: %s", d.Status)
	}
	n, err = s.Release(ctx(), "alive", []string{again[0].Delivery.ID}, t0.Add(3*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("released %d, want 1", n)
	}
	n, err = s.Release(ctx(), "alive", nil, t0.Add(3*time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("released %d, want 2", n)
	}
	if j := claim(t, s, ep.ID, "x", t0.Add(3*time.Minute), 10); len(j) != 3 {
		t.Fatalf("claimed %d after release", len(j))
	}
}

func testEndpointHealth(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	gone := newEndpoint(t, s, ten, "*")
	var evs []*slotwire.Event
	for i := 0; i < 4; i++ {
		evs = append(evs, newEvent(ten, "a.b", "", t0))
	}
	ingest(t, s, t0, evs...)
	// 410 disables at once.
	g := claim(t, s, gone.ID, "n", t0, 1)
	o := outcome(g[0], "n", slotwire.StatusFailed, t0, 410)
	o.DisableReason = "endpoint answered 410 Gone"
	tr, err := complete(s, []store.Outcome{o}, t0, 0)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionDisabled || tr[0].EndpointID != gone.ID || tr[0].TenantID != ten.ID {
		t.Fatalf("transitions = %+v", tr)
	}
	got, _ := s.GetEndpoint(ctx(), ten.ID, gone.ID)
	if got.Enabled || got.DisabledReason != "endpoint answered 410 Gone" {
		t.Fatalf("gone endpoint = %+v", got)
	}
	// Failures start failing_since; a success clears it (recovered).
	j := claim(t, s, ep.ID, "n", t0, 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0, 500)
	o.NextAttemptAt = t0
	tr, err = complete(s, []store.Outcome{o}, t0, 24*time.Hour)
	must(t, err)
	if len(tr) != 0 {
		t.Fatalf("transitions after first failure = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.FailingSince == nil || !got.FailingSince.Equal(t0) || !got.Enabled {
		t.Fatalf("after failure = %+v", got)
	}
	j = claim(t, s, ep.ID, "n", t0.Add(time.Hour), 1)
	tr, err = complete(s, []store.Outcome{outcome(j[0], "n", slotwire.StatusSucceeded, t0.Add(time.Hour), 200)}, t0.Add(time.Hour), 24*time.Hour)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionRecovered {
		t.Fatalf("transitions after recovery = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.FailingSince != nil {
		t.Fatal("failing_since not cleared")
	}
	// Failing for longer than disableAfter disables.
	j = claim(t, s, ep.ID, "n", t0.Add(2*time.Hour), 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0.Add(2*time.Hour), 503)
	o.NextAttemptAt = t0.Add(2 * time.Hour)
	_, err = complete(s, []store.Outcome{o}, t0.Add(2*time.Hour), 24*time.Hour)
	must(t, err)
	j = claim(t, s, ep.ID, "n", t0.Add(27*time.Hour), 1)
	o = outcome(j[0], "n", slotwire.StatusPending, t0.Add(27*time.Hour), 503)
	o.NextAttemptAt = t0.Add(28 * time.Hour)
	tr, err = complete(s, []store.Outcome{o}, t0.Add(27*time.Hour), 24*time.Hour)
	must(t, err)
	if len(tr) != 1 || tr[0].Kind != store.TransitionDisabled || tr[0].Reason == "" {
		t.Fatalf("transitions after long failure = %+v", tr)
	}
	got, _ = s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.Enabled || got.DisabledReason == "" {
		t.Fatalf("endpoint not disabled: %+v", got)
	}
}

// An endpoint pending verification keeps its deliveries waiting: not
// claimed, not due, until its URL is marked verified.
func testPendingVerification(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ep.Verify = true
	must(t, s.UpdateEndpoint(ctx(), ep))
	got, err := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	must(t, err)
	if !got.Verify || !got.PendingVerification {
		t.Fatalf("endpoint = %+v", got)
	}
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0), newEvent(ten, "a.b", "", t0))
	if j := claim(t, s, ep.ID, "n", t0, 10); len(j) != 0 {
		t.Fatal("claimed for an endpoint pending verification")
	}
	if n, err := s.PendingCount(ctx(), ep.ID, 10); err != nil || n != 2 {
		t.Fatalf("PendingCount = %d, %v", n, err)
	}
	if n, _ := s.PendingCount(ctx(), ep.ID, 1); n != 1 {
		t.Fatalf("PendingCount up to 1 = %d", n)
	}
	if due, _ := s.DueEndpoints(ctx()); len(due) != 0 {
		t.Fatalf("pending endpoint due: %+v", due)
	}
	if ok, err := s.MarkVerified(ctx(), ten.ID, ep.ID, "https://example.com/other"); err != nil || ok {
		t.Fatalf("verified a URL the endpoint does not have: %v, %v", ok, err)
	}
	if ok, err := s.MarkVerified(ctx(), ten.ID, ep.ID, ep.URL); err != nil || !ok {
		t.Fatalf("MarkVerified = %v, %v", ok, err)
	}
	if j := claim(t, s, ep.ID, "n", t0, 10); len(j) != 2 {
		t.Fatalf("claimed %d after verification, want 2", len(j))
	}
}

// An outcome without contact (the endpoint's filter decided) ends the
// delivery as filtered, keeps its note, and leaves the endpoint's health
// alone.
func testFilteredOutcome(t *testing.T, s store.Store) {
	ten := newTenant(t, s, "Acme")
	ep := newEndpoint(t, s, ten, "*")
	ingest(t, s, t0, newEvent(ten, "a.b", "", t0))
	j := claim(t, s, ep.ID, "n", t0, 10)
	o := store.Outcome{DeliveryID: j[0].Delivery.ID, EndpointID: ep.ID, Owner: "n", Status: slotwire.StatusFiltered, NoContact: true,
		Attempt: slotwire.Attempt{At: t0, Error: "not sent: the endpoint's filter did not match"}}
	trans, err := complete(s, []store.Outcome{o}, t0, time.Nanosecond)
	must(t, err)
	d, _ := s.GetDelivery(ctx(), ten.ID, j[0].Delivery.ID)
	if d.Status != slotwire.StatusFiltered || d.LastError == "" || len(trans) != 0 {
		t.Fatalf("filtered delivery = %+v, transitions %v", d, trans)
	}
	got, _ := s.GetEndpoint(ctx(), ten.ID, ep.ID)
	if got.FailingSince != nil || !got.Enabled {
		t.Fatalf("an outcome without contact touched health: %+v", got)
	}
	ds, err := s.ListDeliveries(ctx(), ten.ID, store.DeliveryFilter{EndpointID: ep.ID, Status: slotwire.StatusFiltered})
	if err != nil || len(ds) != 1 {
		t.Fatalf("filtered deliveries = %d, %v", len(ds), err)
	}
}
