// Package scopes is the policy of what an API key may do. A key holds
// scopes; every event type needs one (the scheduling catalog's for its
// types, Custom for a tenant's own), Erasure is needed to erase a person's
// data, and Admin covers everything, including keys and settings and the
// "*" pattern.
package scopes

import (
	"sort"
	"strings"

	"github.com/slotwire/slotwire"
)

// The scopes every server has.
const (
	Admin  = slotwire.ScopeAdmin
	Custom = "custom"
	// Erasure lets a key erase a person's personal data (POST
	// /v1/erasures) and read the record of erasures, and nothing else:
	// for the tool of a data protection officer.
	Erasure = "erasure"
)

// Set knows the scope names and which scope each event type needs.
type Set struct {
	desc     map[string]string
	byPrefix map[string]string // first segment of a type -> its scope
}

// New returns a set with Admin and Custom.
func New() *Set {
	// Slotwire's own event types (endpoint.disabled, webhook.test …) are
	// about the tenant's configuration: admin.
	return &Set{desc: map[string]string{
		Admin:   "everything the tenant may do, including API keys and settings",
		Custom:  "the tenant's own event types (any type not in the catalog)",
		Erasure: "erasing a person's personal data (POST /v1/erasures) and the record of erasures",
	}, byPrefix: map[string]string{"endpoint": Admin, "slotwire": Admin, "webhook": Admin}}
}

// Add registers a scope and the event type prefixes (first segments, as
// "appointment") it covers.
func (s *Set) Add(name, description string, prefixes ...string) {
	s.desc[name] = description
	for _, p := range prefixes {
		s.byPrefix[p] = name
	}
}

// Valid reports whether name is a scope.
func (s *Set) Valid(name string) bool { _, ok := s.desc[name]; return ok }

// Names lists the scopes, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.desc))
	for n := range s.desc {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ForType is the scope an event type needs: its prefix's, else Custom.
func (s *Set) ForType(eventType string) string {
	first, _, _ := strings.Cut(eventType, ".")
	if sc, ok := s.byPrefix[first]; ok {
		return sc
	}
	return Custom
}

// ForPattern is the scope an endpoint's event type pattern needs: Admin
// for "*", else that of the types it matches ("appointment.*" needs what
// appointment.created needs).
func (s *Set) ForPattern(pattern string) string {
	if pattern == "*" {
		return Admin
	}
	return s.ForType(strings.TrimSuffix(pattern, "*") + "x")
}

// Holds reports whether a key with scopes held may act on need.
func Holds(held []string, need string) bool {
	for _, h := range held {
		if h == need || h == Admin {
			return true
		}
	}
	return false
}

// Missing is the 403 missing_scope error naming the scope needed.
func Missing(need, what string) error {
	return slotwire.Errorf(slotwire.ECodeMissingScope, "this API key lacks the %q scope, needed to %s", need, what)
}
