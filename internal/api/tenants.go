package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
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
// API and the `slotwire tenant create` command share it.
func CreateTenant(ctx context.Context, s store.Store, name, plan string, now time.Time) (*TenantWithKey, error) {
	name, plan = strings.TrimSpace(name), strings.TrimSpace(plan)
	if name == "" || len(name) > 200 {
		return nil, errorf(slotwire.ECodeInvalid, "name is required (at most 200 characters)")
	}
	if plan == "" {
		plan = "free"
	}
	if len(plan) > 64 {
		return nil, errorf(slotwire.ECodeInvalid, "plan is longer than 64 characters")
	}
	t := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: name, Plan: plan, CreatedAt: now.UTC()}
	secret, key := newKey(t.ID, now)
	if err := s.CreateTenant(ctx, t, key); err != nil {
		return nil, err
	}
	return &TenantWithKey{Tenant: *t, APIKey: secret}, nil
}

func newKey(tenantID string, now time.Time) (string, *slotwire.APIKey) {
	secret := GenerateAPIKey()
	return secret, &slotwire.APIKey{ID: slotwire.NewID(slotwire.PrefixAPIKey), TenantID: tenantID,
		Hash: HashKey(secret), Prefix: secret[:7], CreatedAt: now.UTC()}
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) {
	var in tenantInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	t, err := CreateTenant(r.Context(), s.cfg.Store, in.Name, in.Plan, s.cfg.Now())
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, t)
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
	secret, key := newKey(t.ID, s.cfg.Now())
	if err := s.cfg.Store.CreateAPIKey(r.Context(), key); err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": key.ID, "tenant_id": t.ID, "api_key": secret})
}
