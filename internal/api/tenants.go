package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/plans"
	"github.com/slotwire/slotwire/internal/stats"
	"github.com/slotwire/slotwire/internal/store"
)

// TenantWithKey is the answer to creating a tenant: the key is shown once.
type TenantWithKey struct {
	slotwire.Tenant
	APIKey string `json:"api_key"`
}

type tenantInput struct {
	Name string `json:"name"`
	Plan string `json:"plan"`
}

// CreateTenant validates and stores a tenant with its first API key. The
// API and the `slotwire tenant create` command share it. The plan must be
// one of table's ("" is plans.Default).
func CreateTenant(ctx context.Context, s store.Store, table plans.Table, name, plan string, now time.Time) (*TenantWithKey, error) {
	name, err := tenantName(name)
	if err != nil {
		return nil, err
	}
	if plan, err = table.Check(plan); err != nil {
		return nil, err
	}
	t := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: name, Plan: plan, CreatedAt: now.UTC()}
	secret, key := newKey(t.ID, now, "default", []string{slotwire.ScopeAdmin})
	if err := s.CreateTenant(ctx, t, key); err != nil {
		return nil, err
	}
	return &TenantWithKey{Tenant: *t, APIKey: secret}, nil
}

func tenantName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", errorf(slotwire.ECodeInvalid, "name is required (at most 200 characters)")
	}
	return name, nil
}

func newKey(tenantID string, now time.Time, name string, scopes []string) (string, *slotwire.APIKey) {
	secret := GenerateAPIKey()
	return secret, &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: tenantID, Name: name,
		Hash: HashKey(secret), Prefix: secret[:7], Last4: secret[len(secret)-4:], Scopes: scopes, CreatedAt: now.UTC()}
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	t, err := CreateTenant(r.Context(), s.cfg.Store, s.cfg.Plans, in.Name, in.Plan, s.cfg.Now())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, t)
}

// tenantPatch is the body of PATCH /v1/tenants/{id}: the fields to change.
type tenantPatch struct {
	Name *string `json:"name"`
	Plan *string `json:"plan"`
}

// patchTenant changes a tenant's name or plan; a new plan's limits apply
// to the tenant's next request on every node.
func (s *Server) patchTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantPatch
	err := DecodeJSON(w, r, maxJSONBody, &in)
	var t *slotwire.Tenant
	if err == nil {
		t, err = s.cfg.Store.GetTenant(r.Context(), r.PathValue("id"))
	}
	if err == nil && in.Name != nil {
		t.Name, err = tenantName(*in.Name)
	}
	if err == nil && in.Plan != nil {
		t.Plan, err = s.cfg.Plans.Check(*in.Plan)
	}
	if err == nil {
		err = s.cfg.Store.UpdateTenant(r.Context(), t)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, t)
}

// listTenants is GET /v1/tenants, with ?include=figures each tenant's
// endpoint count and figures of the last 24 hours.
func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	figures, err := includeFigures(r.URL.Query())
	var ts []*slotwire.Tenant
	if err == nil {
		ts, err = s.cfg.Store.ListTenants(r.Context())
	}
	if ts == nil {
		ts = []*slotwire.Tenant{}
	}
	var out any = List[*slotwire.Tenant]{Data: ts}
	if err == nil && figures {
		var fs []TenantFigures
		fs, err = s.tenantFigures(r.Context(), ts)
		out = List[TenantFigures]{Data: fs}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

// includeFigures reads GET /v1/tenants' parameters: include=figures or
// nothing.
func includeFigures(q url.Values) (bool, error) {
	if err := checkParams(q, "include"); err != nil {
		return false, err
	}
	if q.Has("include") && q.Get("include") != "figures" {
		return false, errorf(slotwire.ECodeInvalid, "include takes figures")
	}
	return q.Has("include"), nil
}

// TenantFigures is a tenant with what an operator's overview shows of it:
// its endpoints and the deliveries created in the last 24 hours (the
// "24h" window of GET /v1/stats).
type TenantFigures struct {
	*slotwire.Tenant
	EndpointCount int          `json:"endpoint_count"`
	Deliveries24h stats.Window `json:"deliveries_24h"`
}

// tenantFigures reads the figures of every tenant in two queries.
func (s *Server) tenantFigures(ctx context.Context, ts []*slotwire.Tenant) ([]TenantFigures, error) {
	counts, err := s.cfg.Store.EndpointCounts(ctx)
	if err != nil {
		return nil, err
	}
	day, err := s.cfg.Store.TenantStats(ctx, stats.Hour, stats.DayStart(s.cfg.Now()))
	if err != nil {
		return nil, err
	}
	out := make([]TenantFigures, len(ts))
	for i, t := range ts {
		c := day[t.ID]
		out[i] = TenantFigures{Tenant: t, EndpointCount: counts[t.ID], Deliveries24h: stats.WindowOf(&c)}
	}
	return out, nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	t, err := s.cfg.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	secret, key := newKey(t.ID, s.cfg.Now(), "admin", []string{slotwire.ScopeAdmin})
	if err := s.cfg.Store.CreateAPIKey(r.Context(), key); err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": key.ID, "tenant_id": t.ID, "api_key": secret})
}
