package api

import (
	"net/http"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scopes"
)

// KeyInput is the body of POST /v1/api-keys.
type KeyInput struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// KeyWithSecret is a new key: the only answer that shows the secret.
type KeyWithSecret struct {
	*slotwire.APIKey
	Secret string `json:"api_key"`
}

// requireScope refuses the request unless its key holds need (or admin).
func requireScope(r *http.Request, need, what string) error {
	k := httpx.KeyFrom(r.Context())
	if k == nil || !scopes.Holds(k.Scopes, need) {
		return scopes.Missing(need, what)
	}
	return nil
}

// keyInput checks a new key's name and scopes.
func (s *Server) keyInput(in *KeyInput) (string, []string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return "", nil, errorf(slotwire.ECodeInvalid, "name is required (at most 200 characters)")
	}
	if len(in.Scopes) == 0 {
		return "", nil, errorf(slotwire.ECodeInvalid, "scopes is required: one or more of %s", strings.Join(s.cfg.Scopes.Names(), ", "))
	}
	seen := map[string]bool{}
	var out []string
	for _, sc := range in.Scopes {
		if !s.cfg.Scopes.Valid(sc) {
			return "", nil, errorf(slotwire.ECodeInvalid, "scope %q does not exist; the scopes are %s", sc, strings.Join(s.cfg.Scopes.Names(), ", "))
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return name, out, nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	var in KeyInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	if err == nil {
		err = requireScope(r, scopes.Admin, "manage API keys")
	}
	var name string
	var list []string
	if err == nil {
		name, list, err = s.keyInput(&in)
	}
	var secret string
	var key *slotwire.APIKey
	if err == nil {
		secret, key = newKey(TenantFrom(r.Context()).ID, s.cfg.Now(), name, list)
		err = s.cfg.Store.CreateAPIKey(r.Context(), key)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, KeyWithSecret{APIKey: key, Secret: secret})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	if err := requireScope(r, scopes.Admin, "manage API keys"); err != nil {
		s.Fail(w, r, err)
		return
	}
	keys, err := s.cfg.Store.ListAPIKeys(r.Context(), TenantFrom(r.Context()).ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, List[*slotwire.APIKey]{Data: keys})
}

// deleteKey revokes a key: its next request, on any node, answers 401.
// The tenant's last admin key stays (the admin token can add keys too).
func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	err := requireScope(r, scopes.Admin, "manage API keys")
	var keys []*slotwire.APIKey
	if err == nil {
		keys, err = s.cfg.Store.ListAPIKeys(r.Context(), TenantFrom(r.Context()).ID)
	}
	if err == nil {
		err = lastAdmin(keys, r.PathValue("id"))
	}
	if err == nil {
		err = s.cfg.Store.DeleteAPIKey(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	s.keys.dropWhere(func(e cachedKey) bool { return e.key.ID == id })
	w.WriteHeader(http.StatusNoContent)
}

// lastAdmin refuses to revoke id when it is the only admin key.
func lastAdmin(keys []*slotwire.APIKey, id string) error {
	admins, isAdmin := 0, false
	for _, k := range keys {
		if scopes.Holds(k.Scopes, scopes.Admin) {
			admins++
			isAdmin = isAdmin || k.ID == id
		}
	}
	if isAdmin && admins == 1 {
		return errorf(slotwire.ECodeConflict, "this is the tenant's only admin key; create another admin key before revoking it")
	}
	return nil
}

// endpointInScope refuses an endpoint whose event types the key does not
// all cover ("*" needs admin).
func (s *Server) endpointInScope(r *http.Request, e *slotwire.Endpoint, what string) error {
	for _, p := range e.EventTypes {
		if err := requireScope(r, s.cfg.Scopes.ForPattern(p), what); err != nil {
			return err
		}
	}
	return nil
}

// typeInScope refuses an event type the key does not cover.
func (s *Server) typeInScope(r *http.Request, eventType, what string) error {
	return requireScope(r, s.cfg.Scopes.ForType(eventType), what)
}

// scopedEndpoint returns the tenant's endpoint {id} if the key covers it.
func (s *Server) scopedEndpoint(r *http.Request, what string) (*slotwire.Endpoint, error) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := s.endpointInScope(r, e, what); err != nil {
		return nil, err
	}
	return e, nil
}

// visibleEndpoints keeps the endpoints the key covers.
func (s *Server) visibleEndpoints(r *http.Request, eps []*slotwire.Endpoint) []*slotwire.Endpoint {
	out := eps[:0:0]
	for _, e := range eps {
		if s.endpointInScope(r, e, "") == nil {
			out = append(out, e)
		}
	}
	return out
}
