package scheduling

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/httpx"
)

// Company is the tenant's company profile. Every tenant has one: until it
// is first changed it reads as the tenant's name in UTC.
type Company struct {
	Name       string    `json:"name"`
	Timezone   string    `json:"timezone"`
	ExternalID string    `json:"external_id"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type companyFields struct {
	Name       string `json:"name"`
	Timezone   string `json:"timezone"`
	ExternalID string `json:"external_id"`
}

func (s *Service) company(t *txn) (*Company, bool, error) {
	var c Company
	err := t.queryRow(`SELECT name, timezone, external_id, updated_at FROM sched_company WHERE tenant_id = ?`, t.tenant).
		Scan(&c.Name, &c.Timezone, &c.ExternalID, msCol{&c.UpdatedAt})
	if err == nil {
		return &c, true, nil
	}
	if !isNoRows(err) {
		return nil, false, err
	}
	var created time.Time
	if err := t.queryRow(`SELECT name, created_at FROM tenants WHERE id = ?`, t.tenant).Scan(&c.Name, msCol{&created}); err != nil {
		return nil, false, err
	}
	c.Timezone, c.UpdatedAt = "UTC", created
	return &c, false, nil
}

// Company returns the tenant's company profile.
func (s *Service) Company(ctx context.Context, tenantID string) (*Company, error) {
	var c *Company
	err := s.read(ctx, tenantID, func(t *txn) (err error) {
		c, _, err = s.company(t)
		return err
	})
	return c, err
}

// UpdateCompany applies a JSON merge patch to the company profile and emits
// company.updated with the previous values.
func (s *Service) UpdateCompany(ctx context.Context, tenantID string, patch []byte) (*Company, error) {
	var out *Company
	err := s.write(ctx, tenantID, "company.update", func(t *txn) error {
		old, stored, err := s.company(t)
		if err != nil {
			return err
		}
		f, err := applyPatch(companyFields{old.Name, old.Timezone, old.ExternalID}, patch)
		if err != nil {
			return err
		}
		if err := requireText("name", &f.Name, maxName); err != nil {
			return err
		}
		if err := checkTimezone("timezone", &f.Timezone, true); err != nil {
			return err
		}
		f.ExternalID = strings.TrimSpace(f.ExternalID)
		if err := maxLen("external_id", f.ExternalID, maxName); err != nil {
			return err
		}
		prev, err := changes(companyFields{old.Name, old.Timezone, old.ExternalID}, f)
		if err != nil {
			return err
		}
		if len(prev) == 0 {
			out = old
			return nil
		}
		c := &Company{Name: f.Name, Timezone: f.Timezone, ExternalID: f.ExternalID, UpdatedAt: t.now}
		q := `UPDATE sched_company SET name = ?, timezone = ?, external_id = ?, updated_at = ? WHERE tenant_id = ?`
		args := []any{c.Name, c.Timezone, c.ExternalID, msCol{&c.UpdatedAt}, t.tenant}
		if !stored {
			q = `INSERT INTO sched_company (name, timezone, external_id, updated_at, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`
			args = append(args, msCol{&c.UpdatedAt})
		}
		if _, err := t.exec(q, args...); err != nil {
			return err
		}
		out = c
		return t.event("company", "company.updated", with(c, "previous", prev))
	})
	return out, err
}

func (s *Service) registerCompany(srv httpx.Router) {
	srv.HandleTenant("GET /v1/company", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Company(r.Context(), tenantID(r))
		s.respond(w, r, http.StatusOK, c, err)
	})
	srv.HandleTenant("PATCH /v1/company", func(w http.ResponseWriter, r *http.Request) {
		var patch []byte
		if err := decodeRaw(w, r, &patch); err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := s.UpdateCompany(r.Context(), tenantID(r), patch)
		s.respond(w, r, http.StatusOK, c, err)
	})
}
