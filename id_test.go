package slotwire

import (
	"strings"
	"testing"
)

func TestNewIDSortedAndUnique(t *testing.T) {
	t.Parallel()
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID(PrefixEvent)
		if !strings.HasPrefix(id, "evt_") || len(id) != 4+26 {
			t.Fatalf("bad id %q", id)
		}
		if id <= prev {
			t.Fatalf("ids not increasing: %q then %q", prev, id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		prev = id
	}
}

func TestMatchEventType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p, t string
		want bool
	}{
		{"*", "appointment.created", true},
		{"appointment.created", "appointment.created", true},
		{"appointment.created", "appointment.cancelled", false},
		{"appointment.*", "appointment.created", true},
		{"appointment.*", "appointment.booking.created", true},
		{"appointment.*", "appointment", false},
		{"appointment.*", "appointments.created", false},
		{"group_event.booking.*", "group_event.booking.rebooked", true},
		{"group_event.booking.*", "group_event.created", false},
	}
	for _, c := range cases {
		if got := MatchEventType(c.p, c.t); got != c.want {
			t.Errorf("MatchEventType(%q,%q)=%v want %v", c.p, c.t, got, c.want)
		}
	}
}

func TestValidateEventType(t *testing.T) {
	t.Parallel()
	good := []string{"a", "appointment.created", "x-y.z_1"}
	bad := []string{"", ".a", "a.", "a..b", "a b", "a/b", strings.Repeat("a", 129)}
	for _, s := range good {
		if err := ValidateEventType(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidateEventType(s); err == nil {
			t.Errorf("%q: want error", s)
		}
	}
	for _, p := range []string{"*", "appointment.*", "a.b"} {
		if err := ValidateEventTypePattern(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"**", "appointment*", ".*", "a.*.b*"} {
		if err := ValidateEventTypePattern(p); err == nil {
			t.Errorf("%q: want error", p)
		}
	}
}

func TestBuildPayload(t *testing.T) {
	t.Parallel()
	e := Event{ID: "evt_1", Type: "a.b", Data: []byte(`{"x":1}`)}
	got := string(e.BuildPayload())
	want := `{"id":"evt_1","type":"a.b","timestamp":"0001-01-01T00:00:00.000Z","data":{"x":1}}`
	if got != want {
		t.Fatalf("got %s", got)
	}
}

func FuzzEventTypes(f *testing.F) {
	for _, s := range []string{"appointment.created", "a", "a.b.c", "", ".", "a..b", "*", "x.*", "é.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateEventType(s) != nil {
			return
		}
		// A valid type matches itself, "*", and every prefix wildcard above it.
		if !MatchEventType(s, s) || !MatchEventType("*", s) || ValidateEventTypePattern(s) != nil {
			t.Fatalf("%q does not match itself", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] == '.' {
				p := s[:i] + ".*"
				if ValidateEventTypePattern(p) != nil || !MatchEventType(p, s) {
					t.Fatalf("%q does not match %q", p, s)
				}
			}
		}
		if MatchEventType(s+".*", s) {
			t.Fatalf("%q.* matches %q itself", s, s)
		}
	})
}
