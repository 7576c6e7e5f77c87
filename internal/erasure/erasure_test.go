package erasure

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
)

func person(emails []string, ids ...string) *Person {
	p := &Person{}
	for _, e := range emails {
		p.AddEmail(e)
	}
	for _, id := range ids {
		p.AddID(id)
	}
	return p
}

func TestFromRequest(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		id, email *string
		subject   string
		msg       string // in the error, when one is expected
	}{
		{email: str("  Jan@Example.COM "), subject: SubjectEmail},
		{id: str("cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5"), subject: SubjectCustomerID},
		{msg: "customer_id or email is required"},
		{id: str("cus_1"), email: str("a@b.example"), msg: "not both"},
		{email: str(""), msg: "e-mail address"},
		{email: str("no-at.example"), msg: "e-mail address"},
		{email: str("a@b@c.example"), msg: "e-mail address"},
		{email: str("@b.example"), msg: "e-mail address"},
		{email: str("a@"), msg: "e-mail address"},
		{email: str("a b@c.example"), msg: "e-mail address"},
		{email: str(`a"b@c.example`), msg: "e-mail address"},
		{email: str("a\xffb@c.example"), msg: "e-mail address"},
		{email: str(strings.Repeat("a", 250) + "@b.example"), msg: "e-mail address"},
		{id: str("res_01J9"), msg: "customer id"},
		{id: str("cus_"), msg: "customer id"},
		{id: str("cus_a b"), msg: "customer id"},
	} {
		subject, p, err := FromRequest(tc.id, tc.email)
		if tc.msg != "" {
			if err == nil || slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("FromRequest(%v, %v) = %v, want invalid_request with %q", tc.id, tc.email, err, tc.msg)
			}
			continue
		}
		if err != nil || subject != tc.subject {
			t.Errorf("FromRequest(%v, %v) = %q, %v", tc.id, tc.email, subject, err)
			continue
		}
		if subject == SubjectEmail && (len(p.Emails()) != 1 || p.Emails()[0] != "jan@example.com") {
			t.Errorf("emails = %v: want the address trimmed, in lower case", p.Emails())
		}
	}
}

func TestTextReplacesEveryOccurrenceInAnyCase(t *testing.T) {
	p := person([]string{"Jan@Example.com", "a&b@x.example"})
	in := `{"echo":"JAN@example.COM","again":"jan@example.com!","esc":"a\u0026b@x.example","raw":"a&b@x.example"}`
	got := p.Text(in)
	want := `{"echo":"[erased]","again":"[erased]!","esc":"[erased]","raw":"[erased]"}`
	if got != want {
		t.Fatalf("Text = %s\nwant   %s", got, want)
	}
	if s := "nothing here"; p.Text(s) != s {
		t.Fatal("Text changed a string without the address")
	}
}

func TestPersonal(t *testing.T) {
	for key, want := range map[string]bool{
		"name": true, "Email": true, "phone": true, "first_name": true, "contact_email": true, "billing_address": true,
		"notes": true, "custom_fields": true, "location": true, "subject": true, "reason": true,
		"id": false, "customer_id": false, "type": false, "status": false, "created_at": false, "start": false,
		"locale": false, "resource_ids": false,
	} {
		if Personal(key) != want {
			t.Errorf("Personal(%q) = %v, want %v", key, !want, want)
		}
	}
}

func TestJSONErasesIdentifyingObjects(t *testing.T) {
	p := person([]string{"jan@example.com"}, "cus_1")
	doc := `{"id":"evt_1","type":"appointment.cancelled","timestamp":"2026-12-01T09:00:00.000Z","data":{` +
		`"id":"apt_1","customer_id":"cus_1","start":"2026-12-01T09:00:00Z","notes":"allergic","status":"cancelled","price":12.50,` +
		`"cancellation":{"reason":"ill","cancelled_by":"customer","cancelled_at":"2026-11-30T10:00:00Z"},` +
		`"customer":{"id":"cus_1","name":"Jan Janssens","email":"jan@example.com","phone":"+32 470","locale":"nl-BE",` +
		`"custom_fields":{"vip":true,"age":42,"tags":["a","b"],"none":null},"previous":{"name":"Jan J.","phone":"+32 471"}},` +
		`"resources":[{"id":"res_1","name":"Dr. An","email":"an@example.com"}],` +
		`"service":{"id":"svc_1","name":"Haircut","price":12.50e0}}}`
	got, changed, err := p.JSON([]byte(doc))
	if err != nil || !changed {
		t.Fatalf("JSON: %v, changed %v", err, changed)
	}
	want := `{"id":"evt_1","type":"appointment.cancelled","timestamp":"2026-12-01T09:00:00.000Z","data":{` +
		`"id":"apt_1","customer_id":"cus_1","start":"2026-12-01T09:00:00Z","notes":"[erased]","status":"cancelled","price":12.50,` +
		`"cancellation":{"reason":"[erased]","cancelled_by":"customer","cancelled_at":"2026-11-30T10:00:00Z"},` +
		`"customer":{"id":"cus_1","name":"[erased]","email":"[erased]","phone":"[erased]","locale":"nl-BE",` +
		`"custom_fields":{"vip":null,"age":null,"tags":["[erased]","[erased]"],"none":null},"previous":{"name":"[erased]","phone":"[erased]"}},` +
		`"resources":[{"id":"res_1","name":"Dr. An","email":"an@example.com"}],` +
		`"service":{"id":"svc_1","name":"Haircut","price":12.50e0}}}`
	if string(got) != want {
		t.Fatalf("JSON =\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("result is not JSON")
	}
}

func TestJSONByEmailAndStrayAddresses(t *testing.T) {
	p := person([]string{"jan@example.com"})
	doc := `{"order":"o-1","buyer":{"Contact_Email":"JAN@example.com","first_name":"Jan","ref":7},` +
		`"log":["mailed jan@example.com twice","ok"],"jan@example.com":{"name":"kept: not identified"},"n":1e2,"t":true}`
	got, changed, err := p.JSON([]byte(doc))
	if err != nil || !changed {
		t.Fatalf("JSON: %v, changed %v", err, changed)
	}
	want := `{"order":"o-1","buyer":{"Contact_Email":"[erased]","first_name":"[erased]","ref":7},` +
		`"log":["mailed [erased] twice","ok"],"[erased]":{"name":"kept: not identified"},"n":1e2,"t":true}`
	if string(got) != want {
		t.Fatalf("JSON =\n%s\nwant\n%s", got, want)
	}
}

func TestJSONUnchangedKeepsTheDocument(t *testing.T) {
	p := person([]string{"jan@example.com"}, "cus_1")
	for _, doc := range []string{
		`{"id":"evt_1","data":{"customer_id":"cus_10","email":"other@example.com","s":"\u00e9\n"}}`,
		` [1, {"a" : "b"} ] `,
		`"jan"`,
		`null`,
	} {
		got, changed, err := p.JSON([]byte(doc))
		if err != nil || changed || string(got) != doc {
			t.Errorf("JSON(%s) = %s, %v, %v; want it unchanged", doc, got, changed, err)
		}
	}
	// Escapes of values not erased are kept as written.
	doc := `{"note":"caf\u00e9 \"x\"","email":"jan@example.com","tag":"\u00e9"}`
	got, _, err := p.JSON([]byte(doc))
	if err != nil || string(got) != `{"note":"[erased]","email":"[erased]","tag":"\u00e9"}` {
		t.Fatalf("JSON = %s, %v", got, err)
	}
}

func TestJSONRefusesWhatIsNotJSON(t *testing.T) {
	p := person([]string{"jan@example.com"})
	for _, doc := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1 2]`, `{"a":tru}`, `"x`, `{} x`, strings.Repeat("[", maxDepth+1)} {
		if _, _, err := p.JSON([]byte(doc)); err == nil {
			t.Errorf("JSON(%.20q) accepted", doc)
		}
	}
}

func TestTerms(t *testing.T) {
	p := person([]string{"A&B@x.example"}, "cus_01ABC")
	got := strings.Join(p.Terms(), " ")
	if got != `a&b@x.example a\u0026b@x.example cus_01abc` {
		t.Fatalf("Terms = %s", got)
	}
}
