package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slotwire/slotwire"
)

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string // want: "" valid, else a substring of the error
	}{
		{"plain", `{"a":1,"b":{"c":[1,{"d":2}]}}`, ""},
		{"same key in sibling objects", `{"a":{"x":1},"b":{"x":2}}`, ""},
		{"escaped pair", `{"a":"\ud83d\ude00"}`, ""},
		{"escaped backslash before u", `{"a":"\\ud800"}`, ""},
		{"duplicate top", `{"a":1,"a":2}`, `duplicate key "a" in $`},
		{"duplicate nested", `{"data":{"x":{"y":1,"y":2}}}`, `duplicate key "y" in $.data.x`},
		{"duplicate in array", `{"l":[{"k":1,"k":1}]}`, `duplicate key "k" in $.l[0]`},
		{"invalid utf-8", "{\"a\":\"\xff\"}", "not valid UTF-8 (at byte 6)"},
		{"lone high surrogate", `{"a":"\ud800x"}`, "lone UTF-16 surrogate"},
		{"lone low surrogate", `{"a":"\udc00"}`, "lone UTF-16 surrogate"},
		{"truncated", `{"a":`, "not valid JSON"},
		{"duplicate through an escape", `{"a":1,"\u0061":2}`, `duplicate key "a" in $`},
		{"duplicate in a large object", `{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":0,"k11":1,"k12":2,"k13":3,"k14":4,"k15":5,"k16":6,"k17":7,"k3":8}`, `duplicate key "k3" in $`},
		{"path through arrays", `{"a":[1,{"b":[{},{"c":1,"c":2}]}]}`, `duplicate key "c" in $.a[1].b[1]`},
		{"strings with quotes and braces", `{"a":"}\"{","b":{"a":1}}`, ""},
	} {
		err := JSON([]byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		case err != nil && slotwire.ErrorCode(err) != slotwire.ECodeInvalid:
			t.Errorf("%s: code %s", c.name, slotwire.ErrorCode(err))
		}
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := JSON(doc) // must not panic
		if !json.Valid(doc) || !utf8.Valid(doc) || loneSurrogate(doc) >= 0 {
			return
		}
		// On valid documents the fast scan agrees with the decoder's walk.
		ref := walk(json.NewDecoder(bytes.NewReader(doc)), "$")
		if (err == nil) != (ref == nil) {
			t.Fatalf("%q: scan %v, walk %v", doc, err, ref)
		}
	})
}

func TestHeaders(t *testing.T) {
	if err := Headers(map[string]string{"X-Api-Key": "a", "Authorization": "b"}); err != nil {
		t.Fatal(err)
	}
	err := Headers(map[string]string{"X-Api-Key": "a", "x-api-key": "b"})
	if err == nil || !strings.Contains(err.Error(), `"X-Api-Key" and "x-api-key"`) {
		t.Fatalf("got %v", err)
	}
}

func TestPublishableType(t *testing.T) {
	for _, typ := range []string{"endpoint.disabled", "endpoint.recovered", "Endpoint.x", "slotwire.ping"} {
		if err := PublishableType(typ); err == nil {
			t.Errorf("%s accepted", typ)
		}
	}
	for _, typ := range []string{"invoice.paid", "appointment.created", "endpoints.synced"} {
		if err := PublishableType(typ); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestOrdering(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{{"", true}, {"fifo", true}, {"key", true}, {"KEY", false}, {"per-key", false}} {
		if _, err := Ordering(c.in); (err == nil) != c.ok {
			t.Errorf("Ordering(%q) = %v", c.in, err)
		}
	}
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"", true}, {"apt_123", true}, {"booking/ünïcode 42", true},
		{strings.Repeat("k", slotwire.MaxOrderingKey), true}, {strings.Repeat("k", slotwire.MaxOrderingKey+1), false},
		{"a\x00b", false}, {"line\nbreak", false}, {"bad\xffutf8", false},
	} {
		if err := OrderingKey(c.in); (err == nil) != c.ok {
			t.Errorf("OrderingKey(%q) = %v", c.in, err)
		}
	}
}

func TestEndpointTypeAndEmail(t *testing.T) {
	for in, want := range map[string]string{"": "http", "http": "http", "email": "email"} {
		if got, err := EndpointType(in); err != nil || got != want {
			t.Errorf("EndpointType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := EndpointType("sms"); slotwire.ErrorCode(err) != slotwire.ECodeInvalid {
		t.Errorf("EndpointType(sms): %v", err)
	}
	if got, err := Email("  ops@example.com\t"); err != nil || got != "ops@example.com" {
		t.Errorf("Email trims: %q, %v", got, err)
	}
	if _, err := Email("Ops <ops@example.com>"); slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.HasPrefix(slotwire.ErrorMessage(err), "email ") {
		t.Errorf("Email with a name: %v", err)
	}
}
