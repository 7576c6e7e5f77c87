// Package erasure is the policy of erasing a person's personal data
// (POST /v1/erasures, GDPR article 17): how the person is named (an e-mail
// address or a customer id), which parts of a stored JSON document or text
// are theirs, and what replaces them. It is pure: the store applies it to
// the core's rows (events, attempts) and each module to its own tables,
// all in one transaction.
//
// The rules, also in docs/operations.md#erasure:
//
//   - Addresses are compared case-insensitively for ASCII letters (other
//     characters exactly), ids exactly.
//   - A JSON object identifies the person when its "email" (or any
//     "*_email" member) is one of the person's addresses, or its "id" or
//     "customer_id" is one of the person's ids. An object without an "id"
//     of its own inside an identifying object is part of it ("previous",
//     "address", "cancellation"); an object with another id (a resource, a
//     service) is not.
//   - In an identifying object every personal member is erased: a string
//     becomes Placeholder, a number or boolean null, and an object or array
//     keeps its shape with each value erased the same way. Ids, types,
//     statuses, timestamps and every other member stay.
//   - Anywhere else, every occurrence of an address in a string or an
//     object key becomes Placeholder.
package erasure

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/slotwire/slotwire"
)

// Placeholder replaces erased values.
const Placeholder = "[erased]"

// Subjects: how an erasure request names the person.
const (
	SubjectCustomerID = "customer_id"
	SubjectEmail      = "email"
)

// CustomerPrefix is the prefix of the customer ids a request may name
// (the scheduling core's customers).
const CustomerPrefix = "cus_"

// Person is who an erasure is about: their e-mail addresses and ids. The
// request names one; the modules add what they know (a customer's stored
// address, the customers with an address) before the core's rows are
// rewritten.
type Person struct {
	emails []string // ASCII lower case
	ids    []string
}

// AddEmail adds an e-mail address (trimmed; ignored when empty or known).
func (p *Person) AddEmail(s string) {
	s = asciiLower(strings.TrimSpace(s))
	if s != "" && !contains(p.emails, s) {
		p.emails = append(p.emails, s)
	}
}

// AddID adds an id (ignored when empty or known).
func (p *Person) AddID(s string) {
	if s != "" && !contains(p.ids, s) {
		p.ids = append(p.ids, s)
	}
}

// Emails are the person's addresses, in ASCII lower case.
func (p *Person) Emails() []string { return append([]string(nil), p.emails...) }

// IDs are the person's ids.
func (p *Person) IDs() []string { return append([]string(nil), p.ids...) }

// EmailTerms are what a text holding one of the person's addresses
// contains, in ASCII lower case: each address, and its JSON-escaped form
// where that differs ("a\u0026b@x.example" for "a&b@x.example").
func (p *Person) EmailTerms() []string {
	var out []string
	for _, e := range p.emails {
		out = append(out, e)
		if esc := asciiLower(jsonEscaped(e)); esc != e {
			out = append(out, esc)
		}
	}
	return out
}

// Terms are what a JSON document about the person contains, in ASCII lower
// case: the EmailTerms and the ids. A database filter that keeps the rows
// holding any of them (ASCII letters in lower case) finds every candidate.
func (p *Person) Terms() []string {
	out := p.EmailTerms()
	for _, id := range p.ids {
		if l := asciiLower(id); !contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Text replaces every occurrence of the person's addresses in s (and of
// their JSON-escaped forms) with Placeholder.
func (p *Person) Text(s string) string {
	for _, t := range p.EmailTerms() {
		s = replaceFold(s, t)
	}
	return s
}

// replaceFold replaces every ASCII-case-insensitive occurrence of term (in
// ASCII lower case) in s with Placeholder. ASCII lowering keeps byte
// offsets, so positions found in the lowered copy hold in s.
func replaceFold(s, term string) string {
	lower := asciiLower(s)
	if term == "" || !strings.Contains(lower, term) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, term)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(Placeholder)
		s, lower = s[i+len(term):], lower[i+len(term):]
	}
}

// isEmail reports whether s is one of the person's addresses.
func (p *Person) isEmail(s string) bool {
	return contains(p.emails, asciiLower(strings.TrimSpace(s)))
}

// isID reports whether s is one of the person's ids.
func (p *Person) isID(s string) bool { return contains(p.ids, s) }

// personalKeys are the members of an identifying object that hold
// personal data, besides those ending in personalSuffixes.
var personalKeys = map[string]bool{
	"name": true, "email": true, "phone": true, "mobile": true, "address": true, "addresses": true,
	"street": true, "city": true, "postal_code": true, "notes": true, "note": true, "comment": true,
	"comments": true, "subject": true, "location": true, "reason": true, "custom_fields": true,
	"birth_date": true, "date_of_birth": true,
}

var personalSuffixes = []string{"_name", "_email", "_phone", "_address"}

// Personal reports whether a member of an identifying object holds
// personal data, by its key (in any case): name, email, phone, mobile,
// address(es), street, city, postal_code, note(s), comment(s), subject,
// location, reason (a cancellation's may be about health), custom_fields,
// birth_date, date_of_birth, or a key ending in _name, _email, _phone or
// _address (first_name, contact_email …).
func Personal(key string) bool {
	k := strings.ToLower(key)
	if personalKeys[k] {
		return true
	}
	for _, s := range personalSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// identifyingEmailKey reports whether a member holds an address that
// identifies its object: "email" or "*_email".
func identifyingEmailKey(key string) bool {
	k := strings.ToLower(key)
	return k == "email" || strings.HasSuffix(k, "_email")
}

// Email checks an address loosely: trimmed, at most 254 bytes, one "@"
// with text on both sides, no spaces, control characters, quotes or
// backslashes. It returns the trimmed address.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	bad := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\' || r == unicode.ReplacementChar
	})
	if s == "" || len(s) > 254 || at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || bad >= 0 {
		return "", slotwire.Errorf(slotwire.ECodeInvalid,
			"email must be an e-mail address such as jan@example.com (at most 254 bytes, one @, no spaces or quotes)")
	}
	return s, nil
}

// FromRequest reads the subject of an erasure request: exactly one of a
// customer id (cus_…) or an e-mail address. It returns the subject
// (SubjectCustomerID or SubjectEmail) and the person it names.
func FromRequest(customerID, email *string) (string, *Person, error) {
	switch {
	case customerID != nil && email != nil:
		return "", nil, slotwire.Errorf(slotwire.ECodeInvalid, "send either customer_id or email, not both: one erasure names one person one way")
	case customerID == nil && email == nil:
		return "", nil, slotwire.Errorf(slotwire.ECodeInvalid, "customer_id or email is required")
	case email != nil:
		e, err := Email(*email)
		if err != nil {
			return "", nil, err
		}
		p := &Person{}
		p.AddEmail(e)
		return SubjectEmail, p, nil
	}
	id := strings.TrimSpace(*customerID)
	if !strings.HasPrefix(id, CustomerPrefix) || len(id) == len(CustomerPrefix) || len(id) > 64 ||
		strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }) >= 0 {
		return "", nil, slotwire.Errorf(slotwire.ECodeInvalid, "customer_id must be a customer id such as cus_01J9Z8K4T3M2N1P0Q9R8S7T6V5")
	}
	p := &Person{}
	p.AddID(id)
	return SubjectCustomerID, p, nil
}

// asciiLower lowers ASCII letters only, as SQLite's lower() does, so that
// byte offsets are kept.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// jsonEscaped is s as encoding/json writes it inside a string (<, > and &
// escaped), without the quotes.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}
