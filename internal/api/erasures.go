package api

import (
	"net/http"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/store"
)

// ErasureInput is the body of POST /v1/erasures: exactly one of a
// customer id or an e-mail address.
type ErasureInput struct {
	CustomerID *string `json:"customer_id"`
	Email      *string `json:"email"`
}

// eraseTimeout bounds an erasure's answer: it reads every stored event of
// the tenant, which takes longer than the server's usual write timeout on
// a large history.
const eraseTimeout = 10 * time.Minute

// createErasure erases a person's personal data from the tenant's events,
// attempts and modules' records in one transaction (package erasure has
// the rules) and answers with the record of the erasure.
func (s *Server) createErasure(w http.ResponseWriter, r *http.Request) {
	var in ErasureInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	if err == nil {
		err = requireScope(r, scopes.Erasure, "erase personal data")
	}
	var subject string
	var p *erasure.Person
	if err == nil {
		subject, p, err = erasure.FromRequest(in.CustomerID, in.Email)
	}
	var e *slotwire.Erasure
	if err == nil {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(eraseTimeout))
		e = &slotwire.Erasure{ID: slotwire.NewID(slotwire.PrefixErasure), TenantID: TenantFrom(r.Context()).ID,
			APIKeyID: httpx.KeyFrom(r.Context()).ID, Subject: subject, CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond)}
		err = s.cfg.Store.Erase(r.Context(), e, p, s.cfg.Erasers())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// The log line names the record, never the person.
	s.log.InfoContext(r.Context(), "erasure", "tenant", e.TenantID, "erasure", e.ID, "api_key", e.APIKeyID,
		"subject", e.Subject, "counts", e.Counts)
	WriteJSON(w, http.StatusOK, e)
}

// listErasures is GET /v1/erasures: the tenant's erasure records, newest
// first.
func (s *Server) listErasures(w http.ResponseWriter, r *http.Request) {
	err := requireScope(r, scopes.Erasure, "read the record of erasures")
	if err == nil {
		err = checkParams(r.URL.Query(), "limit", "cursor")
	}
	var p store.Page
	if err == nil {
		p, err = PageFrom(r)
	}
	var list []*slotwire.Erasure
	if err == nil {
		list, err = s.cfg.Store.ListErasures(r.Context(), TenantFrom(r.Context()).ID, p)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, NewList(list, p, func(e *slotwire.Erasure) string { return e.ID }))
}
