package scheduling

import (
	"encoding/json"
	"net/mail"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // timezones validate the same on hosts without zoneinfo

	"github.com/slotwire/slotwire"
)

func newID(prefix string) string { return slotwire.NewID(prefix) }

// Validation errors: 400 invalid_request for a missing field or one of the
// wrong form (bad e-mail, unknown enum value), 422 unprocessable for a
// well-formed request that cannot be applied (unknown timezone, end before
// start, a reference to an object that does not exist).

func requireText(field string, s *string, max int) error {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		return invalid("%s is required", field)
	}
	return maxLen(field, *s, max)
}

func maxLen(field, s string, max int) error {
	if len(s) > max {
		return invalid("%s is longer than %d bytes", field, max)
	}
	return nil
}

func checkEmail(field string, s *string, required bool) error {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	a, err := mail.ParseAddress(*s)
	if err != nil || a.Address != *s || len(*s) > 254 {
		return invalid("%s %q is not an e-mail address", field, *s)
	}
	return nil
}

func checkTimezone(field string, s *string, required bool) error {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if _, err := time.LoadLocation(*s); err != nil || strings.EqualFold(*s, "local") {
		return unprocessable("%s %q is not an IANA time zone such as \"Europe/Brussels\"", field, *s)
	}
	return nil
}

func checkEnum(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return invalid("%s must be one of %s, not %q", field, strings.Join(allowed, ", "), s)
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	phoneRE    = regexp.MustCompile(`^\+?[0-9 ().\-]{3,32}$`)
	localeRE   = regexp.MustCompile(`^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$`)
	keyRE      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

func checkCustomFields(field string, m map[string]any) error {
	for k, v := range m {
		if v == nil { // merge patch: null removes the key
			delete(m, k)
			continue
		}
		if k == "" || len(k) > 64 {
			return invalid("%s keys must be 1 to 64 bytes", field)
		}
	}
	b, _ := json.Marshal(m)
	if len(b) > maxCustomFieldsBytes {
		return invalid("%s is larger than %d bytes", field, maxCustomFieldsBytes)
	}
	return nil
}

// checkSpan validates a start/end pair.
func checkSpan(start, end time.Time) error {
	if start.IsZero() {
		return invalid("start is required (RFC 3339, e.g. 2026-01-15T09:00:00Z)")
	}
	if end.IsZero() {
		return invalid("end is required (RFC 3339, e.g. 2026-01-15T10:00:00Z)")
	}
	if !end.After(start) {
		return unprocessable("end (%s) must be after start (%s)", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	if end.Sub(start) > 31*24*time.Hour {
		return unprocessable("start to end may span at most 31 days")
	}
	return nil
}

func normTime(t *time.Time) {
	if !t.IsZero() {
		*t = t.UTC().Truncate(time.Millisecond)
	}
}

// checkIDs trims a list of ids, refusing duplicates and empty entries.
func checkIDs(field string, ids []string) error {
	seen := map[string]bool{}
	for i, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			return invalid("%s[%d] is empty", field, i)
		}
		if seen[id] {
			return invalid("%s lists %s twice", field, id)
		}
		seen[id] = true
		ids[i] = id
	}
	return nil
}

// optRef trims an optional reference, turning "" into nil.
func optRef(p **string) {
	if *p == nil {
		return
	}
	s := strings.TrimSpace(**p)
	if s == "" {
		*p = nil
		return
	}
	*p = &s
}
