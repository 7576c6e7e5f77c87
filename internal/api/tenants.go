package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/plans"
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

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := s.cfg.Store.ListTenants(r.Context())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if ts == nil {
		ts = []*slotwire.Tenant{}
	}
	WriteJSON(w, http.StatusOK, List[*slotwire.Tenant]{Data: ts})
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
