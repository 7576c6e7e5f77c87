package plans

import (
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, bad string // bad: "" valid, else a substring of the error
	}{
		{DefaultTable, ""},
		{"basic=2, gold=0", ""},
		{"gold=3", `default plan "basic"`},
		{"basic=1,gold", "not plan=limit"},
		{"basic=1,gold=-1", "not plan=limit"},
		{"basic=1,go ld=2", "not plan=limit"},
		{"basic=x", "not plan=limit"},
	} {
		tab, err := Parse(c.in)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("Parse(%q): %v", c.in, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("Parse(%q) = %v, want an error with %q", c.in, err, c.bad)
		case err == nil && tab[Unlimited] != 0:
			t.Errorf("Parse(%q): unlimited has limit %d", c.in, tab[Unlimited])
		}
	}
}

func TestLimits(t *testing.T) {
	tab := Must(DefaultTable)
	if p, err := tab.Check(""); p != "basic" || err != nil {
		t.Fatalf("default plan = %q, %v", p, err)
	}
	if _, err := tab.Check("gold"); slotwire.ErrorCode(err) != slotwire.ECodeInvalid || !strings.Contains(err.Error(), "professional") {
		t.Fatalf("unknown plan: %v", err)
	}
	for _, c := range []struct {
		plan string
		n    int
		ok   bool
	}{
		{"basic", 0, true}, {"basic", 1, false}, {"professional", 2, true}, {"professional", 3, false},
		{"business", 5, false}, {"enterprise", 9, true}, {"enterprise", 10, false},
		{"unlimited", 100000, true}, {"legacy-free", 50, true},
	} {
		err := tab.AllowsEndpoint(c.plan, c.n)
		if (err == nil) != c.ok {
			t.Errorf("%s with %d endpoints: %v", c.plan, c.n, err)
		}
		if err != nil && (slotwire.ErrorCode(err) != slotwire.ECodePlanLimit || !strings.Contains(err.Error(), c.plan)) {
			t.Errorf("%s: error %v does not name the plan with code plan_limit", c.plan, err)
		}
	}
}
