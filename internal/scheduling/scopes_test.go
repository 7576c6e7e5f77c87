package scheduling_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/api"
)

// Each group of scheduling routes needs its scope: a key holding only
// "customers" manages customers and nothing else.
func TestRoutesNeedTheirScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := api.GenerateAPIKey()
	if err := e.db.CreateAPIKey(context.Background(), &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: e.tenant,
		Hash: api.HashKey(key), Prefix: key[:8], Name: "crm", Scopes: []string{"customers"}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if r := e.request(t, key, "POST", "/v1/customers", map[string]any{"name": "Ada"}); r.status != http.StatusCreated {
		t.Fatalf("customers with the customers scope: %d %s", r.status, r.body)
	}
	for _, c := range []struct{ method, path, scope string }{
		{"GET", "/v1/appointments", "events"},
		{"POST", "/v1/group-events", "events"},
		{"GET", "/v1/resources", "resources"},
		{"PATCH", "/v1/company", "company"},
		{"GET", "/v1/shifts", "shifts"},
	} {
		r := e.request(t, key, c.method, c.path, map[string]any{})
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "missing_scope") || !strings.Contains(string(r.body), `\"`+c.scope+`\"`) {
			t.Errorf("%s %s with only customers: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// The admin key the tenant was made with may do everything.
	if r := e.do(t, "GET", "/v1/appointments", nil); r.status != http.StatusOK {
		t.Fatalf("admin key: %d %s", r.status, r.body)
	}
}
