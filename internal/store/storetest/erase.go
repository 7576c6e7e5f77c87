package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store"
)

// erasureFixture is a tenant whose events, attempts and inline attempts
// hold jan@example.com (in several cases) or the customer id cus_JAN.
type erasureFixture struct {
	ten, other *slotwire.Tenant
	byEmail    *slotwire.Event // identified by the address
	byID       *slotwire.Event // identified by the id only
	stray      *slotwire.Event // the address in free text
	keyed      *slotwire.Event // the address in its idempotency and ordering keys
	bodiless   *slotwire.Event // its payload emptied, the address in its ordering key
	unrelated  *slotwire.Event
	otherEvent *slotwire.Event // the other tenant's, with the address
	failed     string          // delivery with an attempts row echoing the address
	inline     string          // delivery whose inline first attempt echoes it
}

func dataEvent(ten *slotwire.Tenant, data string) *slotwire.Event {
	e := newEvent(ten, "crm.updated", "", t0)
	e.Data = []byte(data)
	e.Payload = e.BuildPayload()
	return e
}

func newErasureFixture(t *testing.T, s store.Store) *erasureFixture {
	f := &erasureFixture{ten: newTenant(t, s, "Acme"), other: newTenant(t, s, "Other")}
	ep := newEndpoint(t, s, f.ten, "*")
	newEndpoint(t, s, f.other, "*")
	f.byEmail = dataEvent(f.ten, `{"customer":{"id":"cus_X","name":"Jan","email":"Jan@Example.com","phone":"+32 470"},"order":"o-1"}`)
	f.byID = dataEvent(f.ten, `{"customer_id":"cus_JAN","first_name":"Jan","total":5}`)
	f.stray = dataEvent(f.ten, `{"note":"mailed JAN@example.COM","total":5}`)
	f.keyed = dataEvent(f.ten, `{"n":1}`)
	f.keyed.IdempotencyKey, f.keyed.OrderingKey = "signup-jan@example.com", "jan@example.com"
	f.keyed.Payload = f.keyed.BuildPayload()
	f.unrelated = dataEvent(f.ten, `{"customer":{"id":"cus_PIET","name":"Piet","email":"piet@example.com"}}`)
	f.bodiless = dataEvent(f.ten, `{"n":2}`)
	f.bodiless.OrderingKey = "JAN@example.com"
	f.otherEvent = dataEvent(f.other, `{"customer":{"name":"Jan","email":"jan@example.com"}}`)
	ingest(t, s, t0, f.byEmail, f.byID, f.stray, f.keyed, f.unrelated, f.bodiless)
	// An event whose body is no longer kept (as retention leaves it).
	_, err := s.Write(ctx(), func(ctx context.Context, tx store.WriteTx) error {
		_, err := tx.ExecContext(ctx, tx.Dialect().Rebind(`UPDATE events SET payload = ? WHERE id = ?`), []byte{}, f.bodiless.ID)
		return err
	})
	must(t, err)
	ingest(t, s, t0, f.otherEvent)
	jobs := claim(t, s, ep.ID, "n", t0, 2)
	ok := outcome(jobs[0], "n", slotwire.StatusSucceeded, t0, 200)
	ok.Attempt.ResponseBody = `{"received":"jan@example.com"}`
	ok.Attempt.ResponseHeaders = "X-User: jan@example.com\n"
	bad := outcome(jobs[1], "n", slotwire.StatusFailed, t0, 422)
	bad.Attempt.ResponseBody, bad.Attempt.Error = "unknown user Jan@Example.com", "HTTP 422: jan@example.com"
	bad.Attempt.RequestHeaders = "X-For: jan@example.com\n"
	_, err = complete(s, []store.Outcome{ok, bad}, t0, 0)
	must(t, err)
	f.inline, f.failed = jobs[0].Delivery.ID, jobs[1].Delivery.ID
	return f
}

// crmEraser is a module's eraser: it knows the person by the address as
// the customer cus_JAN, and renames the tenant in the same transaction (to
// show it runs in it).
func crmEraser(fail error) store.Eraser {
	return store.Eraser{Name: "crm", Tables: []string{"tenants"},
		Erase: func(ctx context.Context, tx store.WriteTx, tenantID string, p *erasure.Person) (map[string]int, error) {
			if len(p.Emails()) == 1 && p.Emails()[0] == "jan@example.com" {
				p.AddID("cus_JAN")
			}
			if _, err := tx.ExecContext(ctx, tx.Dialect().Rebind(`UPDATE tenants SET name = ? WHERE id = ?`), "Erased once", tenantID); err != nil {
				return nil, err
			}
			return map[string]int{"contacts": 1}, fail
		}}
}

// testErasure: an erasure rewrites exactly the tenant's rows about the
// person (by address, by the id a module found, addresses in free text,
// keys, attempts and inline attempts), runs the modules' erasers in its
// transaction, rolls back as a whole, and leaves a record without the
// person's data.
func testErasure(t *testing.T, s store.Store) {
	f := newErasureFixture(t, s)
	person := func() *erasure.Person { p := &erasure.Person{}; p.AddEmail(" JAN@example.com "); return p }
	newErasure := func(subject string) *slotwire.Erasure {
		return &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: f.ten.ID, APIKeyID: "key_1",
			Subject: subject, CreatedAt: t0.Add(time.Hour)}
	}
	// A failing module rolls everything back.
	boom := errors.New("boom")
	if err := s.Erase(ctx(), newErasure(erasure.SubjectEmail), person(), []store.Eraser{crmEraser(boom)}); !errors.Is(err, boom) {
		t.Fatalf("failing eraser: %v", err)
	}
	if got := payloadOf(t, s, f.ten, f.byEmail); got != string(f.byEmail.Payload) {
		t.Fatalf("a failed erasure changed an event: %s", got)
	}
	if ten, _ := s.GetTenant(ctx(), f.ten.ID); ten.Name != "Acme" {
		t.Fatal("a failed erasure kept its module's change")
	}

	e := newErasure(erasure.SubjectEmail)
	must(t, s.Erase(ctx(), e, person(), []store.Eraser{crmEraser(nil)}))
	if len(e.Counts) != 3 || e.Counts["events"] != 5 || e.Counts["attempts"] != 2 || e.Counts["contacts"] != 1 {
		t.Fatalf("counts = %v, want 5 events, 2 attempts, 1 contact", e.Counts)
	}
	if ten, _ := s.GetTenant(ctx(), f.ten.ID); ten.Name != "Erased once" {
		t.Fatal("the module's change was lost")
	}
	checkErasedEvents(t, s, f)
	checkErasedAttempts(t, s, f)
	checkErasureRecords(t, s, f, e)
}

func payloadOf(t *testing.T, s store.Store, ten *slotwire.Tenant, e *slotwire.Event) string {
	t.Helper()
	got, err := s.GetEvent(ctx(), ten.ID, e.ID)
	must(t, err)
	return string(got.Payload)
}

func checkErasedEvents(t *testing.T, s store.Store, f *erasureFixture) {
	t.Helper()
	for _, c := range []struct {
		e    *slotwire.Event
		data string
	}{
		{f.byEmail, `{"customer":{"id":"cus_X","name":"[erased]","email":"[erased]","phone":"[erased]"},"order":"o-1"}`},
		{f.byID, `{"customer_id":"cus_JAN","first_name":"[erased]","total":5}`},
		{f.stray, `{"note":"mailed [erased]","total":5}`},
		{f.unrelated, string(f.unrelated.Data)},
	} {
		want := strings.Replace(string(c.e.Payload), string(c.e.Data), c.data, 1)
		if got := payloadOf(t, s, f.ten, c.e); got != want {
			t.Errorf("payload =\n%s\nwant\n%s", got, want)
		}
	}
	if got := payloadOf(t, s, f.other, f.otherEvent); got != string(f.otherEvent.Payload) {
		t.Errorf("another tenant's event changed: %s", got)
	}
	keyed, err := s.GetEvent(ctx(), f.ten.ID, f.keyed.ID)
	must(t, err)
	if keyed.IdempotencyKey != "" || keyed.OrderingKey != erasure.Placeholder {
		t.Errorf("keys = %q, %q: want the idempotency key dropped, the address replaced in the ordering key",
			keyed.IdempotencyKey, keyed.OrderingKey)
	}
	var okey string
	var size int
	must(t, s.Read(ctx(), func(ctx context.Context, tx store.ReadTx) error {
		return tx.QueryRowContext(ctx, tx.Dialect().Rebind(`SELECT ordering_key, length(payload) FROM events WHERE id = ?`),
			f.bodiless.ID).Scan(&okey, &size)
	}))
	if okey != erasure.Placeholder || size != 0 {
		t.Errorf("event without a body: ordering key %q, payload of %d bytes", okey, size)
	}
}

func checkErasedAttempts(t *testing.T, s store.Store, f *erasureFixture) {
	t.Helper()
	for id, want := range map[string][2]string{
		f.inline: {`{"received":"[erased]"}`, ""},
		f.failed: {"unknown user [erased]", "HTTP 422: [erased]"},
	} {
		atts, err := s.ListAttempts(ctx(), f.ten.ID, id)
		must(t, err)
		if len(atts) != 1 || atts[0].ResponseBody != want[0] || atts[0].Error != want[1] ||
			strings.Contains(string(atts[0].RequestHeaders+atts[0].ResponseHeaders), "jan@") {
			t.Errorf("attempts of %s = %+v, want body %q, error %q", id, atts[0], want[0], want[1])
		}
		d, err := s.GetDelivery(ctx(), f.ten.ID, id)
		must(t, err)
		if strings.Contains(strings.ToLower(d.LastError), "jan@") {
			t.Errorf("last error = %q", d.LastError)
		}
	}
}

// checkErasureRecords: the record is listed, newest first and paged, for
// its tenant only, and holds neither the address nor the id.
func checkErasureRecords(t *testing.T, s store.Store, f *erasureFixture, first *slotwire.Erasure) {
	t.Helper()
	p := &erasure.Person{}
	p.AddID("cus_JAN")
	second := &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: f.ten.ID, APIKeyID: "key_2",
		Subject: erasure.SubjectCustomerID, CreatedAt: t0.Add(2 * time.Hour)}
	must(t, s.Erase(ctx(), second, p, nil))
	if second.Counts["events"] != 0 || second.Counts["attempts"] != 0 {
		t.Fatalf("erasing again changed %v", second.Counts)
	}
	all, err := s.ListErasures(ctx(), f.ten.ID, store.Page{})
	must(t, err)
	if len(all) != 2 || all[0].ID != second.ID || all[1].ID != first.ID {
		t.Fatalf("erasures = %+v, want the two, newest first", all)
	}
	got := all[1]
	if got.APIKeyID != "key_1" || got.Subject != erasure.SubjectEmail || !got.CreatedAt.Equal(first.CreatedAt) ||
		len(got.Counts) != 3 || got.Counts["events"] != 5 || got.Counts["contacts"] != 1 {
		t.Fatalf("record = %+v, want %+v", got, first)
	}
	page, err := s.ListErasures(ctx(), f.ten.ID, store.Page{Limit: 1, Before: second.ID})
	must(t, err)
	if len(page) != 1 || page[0].ID != first.ID {
		t.Fatalf("page after %s = %+v", second.ID, page)
	}
	if other, err := s.ListErasures(ctx(), f.other.ID, store.Page{}); err != nil || len(other) != 0 {
		t.Fatalf("the other tenant sees %d erasures, %v", len(other), err)
	}
}
