// Package plans is the policy of tenant plans: how many endpoints each
// plan allows. The table is configurable (--plans); "unlimited" is always
// there, for the operator's own use.
package plans

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/slotwire/slotwire"
)

// Default is the plan of a tenant created without one; Unlimited has no
// endpoint limit.
const (
	Default   = "basic"
	Unlimited = "unlimited"
)

// DefaultTable is the endpoint limit of each plan, as Calenso's plans.
const DefaultTable = "basic=1,professional=3,business=5,enterprise=10"

// Table maps a plan to its endpoint limit (0: none).
type Table map[string]int

// Parse reads a table written plan=limit,… (limit 0: none). Plan names
// are 1 to 64 letters, digits, '-' or '_'. Unlimited is added.
func Parse(s string) (Table, error) {
	t := Table{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, limit, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(limit))
		name = strings.TrimSpace(name)
		if !ok || err != nil || n < 0 || !validName(name) {
			return nil, fmt.Errorf("plans: %q is not plan=limit (a name of letters, digits, - or _; a limit of 0 or more)", part)
		}
		t[name] = n
	}
	if _, ok := t[Default]; !ok {
		return nil, fmt.Errorf("plans: the table must have the default plan %q", Default)
	}
	t[Unlimited] = 0
	return t, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Must parses a table known to be valid.
func Must(s string) Table {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Names lists the plans, sorted.
func (t Table) Names() []string {
	out := make([]string, 0, len(t))
	for n := range t {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Check returns the plan to store for a new or changed tenant: the
// default for "", else a plan of the table (400 naming them otherwise).
func (t Table) Check(plan string) (string, error) {
	plan = strings.TrimSpace(plan)
	if plan == "" {
		return Default, nil
	}
	if _, ok := t[plan]; !ok {
		return "", slotwire.Errorf(slotwire.ECodeInvalid, "plan %q does not exist; the plans are %s", plan, strings.Join(t.Names(), ", "))
	}
	return plan, nil
}

// AllowsEndpoint says whether a tenant on plan with n endpoints may have
// one more: a 403 plan_limit naming the plan and its limit otherwise. A
// plan missing from the table (stored before plans existed, or removed
// since) has no limit of its own.
func (t Table) AllowsEndpoint(plan string, n int) error {
	limit := t[plan]
	if limit == 0 || n < limit {
		return nil
	}
	return slotwire.Errorf(slotwire.ECodePlanLimit,
		"the %s plan allows %d endpoint(s) and this tenant has %d; delete one or change the plan", plan, limit, n)
}
