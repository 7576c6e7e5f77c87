package scheduling_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/scheduling"
)

// setPath sets a value in a decoded example: path "previous.start" or
// "resources.0.name"; a nil value with del removes the key.
func setPath(t *testing.T, m map[string]any, path string, v any, del bool) {
	t.Helper()
	parts := strings.Split(path, ".")
	var cur any = m
	for _, p := range parts[:len(parts)-1] {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[p]
		case []any:
			cur = x[int(p[0]-'0')]
		}
	}
	last := parts[len(parts)-1]
	obj, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("%s: parent is %T", path, cur)
	}
	if del {
		delete(obj, last)
		return
	}
	obj[last] = v
}

func exampleOf(t *testing.T, typ string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(scheduling.LookupEventType(typ).Example))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The server accepts exactly what a standard draft 2020-12 validator with
// format assertions accepts: each case is checked against ValidateEvent and
// against the served schema compiled independently, as a receiver would.
func TestValidateEventAgreesWithStandardValidator(t *testing.T) {
	t.Parallel()
	const typ = "appointment.rescheduled"
	tests := []struct {
		name, path string
		value      any
		del        bool
		msg        string // "" = valid
	}{
		{"example", "", nil, false, ""},
		{"lowercase t", "start", "2026-03-02t10:00:00Z", false, ""},
		{"lowercase z", "start", "2026-03-02T10:00:00z", false, ""},
		{"offset", "start", "2026-03-02T11:00:00+01:00", false, ""},
		{"fraction", "start", "2026-03-02T10:00:00.123456789Z", false, ""},
		{"leap second", "start", "2016-12-31T23:59:60Z", false, ""},
		{"space instead of T", "start", "2026-03-02 10:00:00Z", false, `data.start: "2026-03-02 10:00:00Z" is not an RFC 3339 date-time`},
		{"no offset", "start", "2026-03-02T10:00:00", false, `data.start: "2026-03-02T10:00:00" is not an RFC 3339 date-time`},
		{"no such day", "previous.end", "2026-02-30T10:00:00Z", false, `data.previous.end: "2026-02-30T10:00:00Z" is not an RFC 3339 date-time`},
		{"hour 24", "start", "2026-03-02T24:00:00Z", false, "is not an RFC 3339 date-time"},
		{"date only", "end", "2026-03-02", false, `data.end: "2026-03-02" is not an RFC 3339 date-time`},
		{"date-time not a string", "start", 1700000000, false, "data.start: expected string, got integer"},
		{"missing required", "origin", nil, true, `data: required property "origin" is missing`},
		{"missing nested required", "previous.end", nil, true, `data.previous: required property "end" is missing`},
		{"missing in array item", "resources.0.name", nil, true, `data.resources[0]: required property "name" is missing`},
		{"additional property allowed", "x_custom", map[string]any{"a": 1}, false, ""},
		{"additional nested property allowed", "customer.nickname", "Jan", false, ""},
		{"null where nullable", "service", nil, false, ""},
		{"null where not nullable", "source", nil, false, "data.source: expected object, got null"},
		{"enum", "status", "postponed", false, `data.status: "postponed" is not one of "scheduled", "confirmed", "completed", "cancelled", "no_show"`},
		{"integer as 45.0", "service.duration_minutes", json.Number("45.0"), false, ""},
		{"integer as 4.5e1", "service.duration_minutes", json.Number("4.5e1"), false, ""},
		{"integer with fraction", "service.duration_minutes", json.Number("45.5"), false, "data.service.duration_minutes: expected integer, got number"},
		{"number as integer", "service.price", json.Number("40"), false, ""},
		{"large number", "service.price", json.Number("1e300"), false, ""},
	}
	served := compileStandard(t, mustMarshal(t, scheduling.LookupEventType(typ).Schema))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := exampleOf(t, typ)
			if tc.path != "" {
				setPath(t, m, tc.path, tc.value, tc.del)
			}
			data := mustMarshal(t, m)
			err := scheduling.ValidateEvent(typ, data)
			doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			standard := served.Validate(doc)
			if (err == nil) != (standard == nil) {
				t.Fatalf("server says %v, standard validator says %v", err, standard)
			}
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.Contains(slotwire.ErrorMessage(err), tc.msg) {
				t.Fatalf("error %v, want invalid_request containing %q", err, tc.msg)
			}
		})
	}
}

// Numbers a float64 cannot hold, or with huge exponents (which cost the
// validator's exact arithmetic dearly), are refused before validation.
func TestValidateEventRefusesHugeNumbers(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"1e400", "-1e309", "1e-5000", "1e9000000", "1e99999999999999999999"} {
		m := exampleOf(t, "service.created")
		m["duration_minutes"] = json.Number(n)
		err := scheduling.ValidateEvent("service.created", mustMarshal(t, m))
		want := "data.duration_minutes: number " + n + " is out of range"
		if slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.Contains(slotwire.ErrorMessage(err), want) {
			t.Errorf("%s: %v, want %q", n, err, want)
		}
	}
	m := exampleOf(t, "service.created")
	m["duration_minutes"] = json.Number("1e3")
	if err := scheduling.ValidateEvent("service.created", mustMarshal(t, m)); err != nil {
		t.Errorf("1e3: %v", err)
	}
}

// Several violations: the one nearest the root is named, with a count.
func TestValidateEventNamesFirstViolation(t *testing.T) {
	t.Parallel()
	m := exampleOf(t, "appointment.created")
	delete(m, "origin")
	m["status"] = "x"
	m["customer"].(map[string]any)["name"] = 5
	err := scheduling.ValidateEvent("appointment.created", mustMarshal(t, m))
	want := `data does not match the schema of appointment.created: data: required property "origin" is missing (and 2 more violations)`
	if slotwire.ErrorMessage(err) != want {
		t.Fatalf("got %q\nwant %q", slotwire.ErrorMessage(err), want)
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzValidateEvent: any input gets an answer without panicking, the answer
// is a 400 invalid_request or nil, and it agrees with a standard validator
// given the served schema.
func FuzzValidateEvent(f *testing.F) {
	types := scheduling.Catalog()
	for i, e := range types {
		f.Add(uint8(i), []byte(e.Example))
	}
	f.Add(uint8(0), []byte(`{"start":"2026-03-02t10:00:00Z"}`))
	f.Add(uint8(1), []byte(`[1, {"a": null}]`))
	f.Add(uint8(2), []byte(`{"a":1} x`))
	f.Add(uint8(3), []byte(`1e400`))
	served := make([]*jsonschema.Schema, len(types))
	for i, e := range types {
		served[i] = compileStandard(f, mustMarshal(f, e.Schema))
	}
	f.Fuzz(func(t *testing.T, i uint8, data []byte) {
		n := int(i) % len(types)
		err := scheduling.ValidateEvent(types[n].Type, data)
		if err != nil && slotwire.ErrorCode(err) != slotwire.ECodeInvalid {
			t.Fatalf("error code %q: %v", slotwire.ErrorCode(err), err)
		}
		doc, perr := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if perr != nil {
			if err == nil {
				t.Fatalf("accepted data a JSON parser refuses: %v", perr)
			}
			return
		}
		if strings.Contains(slotwire.ErrorMessage(err), "is out of range") {
			return // refused before validation, on purpose (see maxExponent)
		}
		if standard := served[n].Validate(doc); (err == nil) != (standard == nil) {
			t.Fatalf("%s: server says %v, standard validator says %v", types[n].Type, err, standard)
		}
	})
}
