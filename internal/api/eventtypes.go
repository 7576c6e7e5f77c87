package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/schemacheck"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/validate"
)

// Catalog is a module's built-in event types (the scheduling catalog).
type Catalog interface {
	// List returns the catalog's entries, as GET /v1/event-types shows them.
	List() []any
	// Has reports whether t is one of its types.
	Has(t string) bool
	// Types lists its types.
	Types() []string
}

// EventTypeInput is the body of POST /v1/event-types.
type EventTypeInput struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Example     json.RawMessage `json:"example"`
}

// customType is a tenant's event type as GET /v1/event-types lists it.
type customType struct {
	*slotwire.EventType
	Scope  string `json:"scope"`
	Custom bool   `json:"custom"`
}

// maxSchemaBytes bounds a registered type's schema and example.
const maxSchemaBytes = 64 << 10

// registry caches each tenant's registered types with their compiled
// schemas for a few seconds (changes made on this node apply at once;
// on other nodes within registryTTL).
type registry struct {
	mu sync.Mutex
	m  map[string]cachedTypes
}

type cachedTypes struct {
	types map[string]*compiledType
	at    time.Time
}

type compiledType struct {
	t      *slotwire.EventType
	schema *jsonschema.Schema // nil: no schema
}

const registryTTL = 5 * time.Second

// types returns a tenant's registered types.
func (s *Server) types(r *http.Request, tenantID string) (map[string]*compiledType, error) {
	now := time.Now()
	s.registry.mu.Lock()
	c, ok := s.registry.m[tenantID]
	s.registry.mu.Unlock()
	if ok && now.Sub(c.at) < registryTTL {
		return c.types, nil
	}
	list, err := s.cfg.Store.ListEventTypes(r.Context(), tenantID)
	if err != nil {
		return nil, err
	}
	types := make(map[string]*compiledType, len(list))
	for _, t := range list {
		ct := &compiledType{t: t}
		if len(t.Schema) > 0 {
			if ct.schema, err = schemacheck.Compile("urn:slotwire:tenant-type:"+t.Type, t.Schema); err != nil {
				return nil, fmt.Errorf("event type %s: %w", t.Type, err)
			}
		}
		types[t.Type] = ct
	}
	s.registry.mu.Lock()
	if s.registry.m == nil || len(s.registry.m) > 10000 {
		s.registry.m = map[string]cachedTypes{}
	}
	s.registry.m[tenantID] = cachedTypes{types: types, at: now}
	s.registry.mu.Unlock()
	return types, nil
}

func (s *Server) forgetTypes(tenantID string) {
	s.registry.mu.Lock()
	delete(s.registry.m, tenantID)
	s.registry.mu.Unlock()
}

// isCatalogType reports whether a module's catalog has t.
func (s *Server) isCatalogType(t string) bool {
	for _, c := range s.cfg.Catalogs() {
		if c.Has(t) {
			return true
		}
	}
	return false
}

// checkPublishable validates e against its registered type's schema and,
// for a strict tenant, refuses a type neither registered nor in a catalog.
func (s *Server) checkPublishable(r *http.Request, t *slotwire.Tenant, e *slotwire.Event) error {
	if s.isCatalogType(e.Type) {
		return nil
	}
	types, err := s.types(r, t.ID)
	if err != nil {
		return err
	}
	ct, ok := types[e.Type]
	switch {
	case !ok && t.StrictEventTypes:
		return errorf(slotwire.ECodeInvalid, "event type %q is not registered, and this tenant publishes only registered types (strict_event_types); register it with POST /v1/event-types", e.Type)
	case ok && ct.schema != nil:
		if err := schemacheck.Check(ct.schema, e.Data); err != nil {
			return errorf(slotwire.ECodeInvalid, "data does not match the schema of %s: %v", e.Type, err)
		}
	}
	return nil
}

// checkSubscribable refuses, for a strict tenant, patterns that match no
// registered or catalog type ("*" always passes).
func (s *Server) checkSubscribable(r *http.Request, e *slotwire.Endpoint) error {
	t, err := s.cfg.Store.GetTenant(r.Context(), e.TenantID)
	if err != nil || !t.StrictEventTypes {
		return err
	}
	types, err := s.types(r, t.ID)
	if err != nil {
		return err
	}
	known := s.knownTypes(types)
	for _, p := range e.EventTypes {
		if p == "*" {
			continue
		}
		matched := false
		for _, k := range known {
			if slotwire.MatchEventType(p, k) {
				matched = true
				break
			}
		}
		if !matched {
			return errorf(slotwire.ECodeInvalid, "%q matches no registered event type, and this tenant subscribes only to registered types (strict_event_types)", p)
		}
	}
	return nil
}

// knownTypes lists the registered and catalog types.
func (s *Server) knownTypes(types map[string]*compiledType) []string {
	var out []string
	for t := range types {
		out = append(out, t)
	}
	for _, c := range s.cfg.Catalogs() {
		out = append(out, c.Types()...)
	}
	return out
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request) {
	list := []any{}
	for _, c := range s.cfg.Catalogs() {
		list = append(list, c.List()...)
	}
	own, err := s.cfg.Store.ListEventTypes(r.Context(), TenantFrom(r.Context()).ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	for _, t := range own {
		list = append(list, customType{EventType: t, Scope: scopes.Custom, Custom: true})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": list})
}

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request) {
	var in EventTypeInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	if err == nil {
		err = requireScope(r, scopes.Custom, "register event types")
	}
	var t *slotwire.EventType
	if err == nil {
		t, err = s.eventTypeFrom(TenantFrom(r.Context()).ID, &in)
	}
	if err == nil {
		err = s.cfg.Store.PutEventType(r.Context(), t)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.forgetTypes(t.TenantID)
	WriteJSON(w, http.StatusCreated, customType{EventType: t, Scope: scopes.Custom, Custom: true})
}

// eventTypeFrom checks a type to register: a publishable name not in a
// catalog, a description, a schema that compiles, an example that matches.
func (s *Server) eventTypeFrom(tenantID string, in *EventTypeInput) (*slotwire.EventType, error) {
	if err := slotwire.ValidateEventType(in.Type); err != nil {
		return nil, err
	}
	if err := validate.PublishableType(in.Type); err != nil {
		return nil, err
	}
	if s.isCatalogType(in.Type) {
		return nil, errorf(slotwire.ECodeConflict, "%q is a catalog event type; register types of your own", in.Type)
	}
	desc, err := validate.Description(in.Description)
	if err != nil {
		return nil, err
	}
	if len(in.Schema) > maxSchemaBytes || len(in.Example) > maxSchemaBytes {
		return nil, errorf(slotwire.ECodeTooLarge, "schema and example are at most %d bytes each", maxSchemaBytes)
	}
	t := &slotwire.EventType{TenantID: tenantID, Type: in.Type, Description: desc, CreatedAt: s.cfg.Now().UTC()}
	if isJSONNull(in.Schema) {
		if !isJSONNull(in.Example) {
			t.Example = in.Example
		}
		return t, nil
	}
	sch, err := schemacheck.Compile("urn:slotwire:tenant-type:"+in.Type, in.Schema)
	if err != nil {
		return nil, errorf(slotwire.ECodeUnprocessable, "schema does not compile: %v", err)
	}
	t.Schema = in.Schema
	if !isJSONNull(in.Example) {
		if err := schemacheck.Check(sch, in.Example); err != nil {
			return nil, errorf(slotwire.ECodeUnprocessable, "example does not match the schema: %v", err)
		}
		t.Example = in.Example
	}
	return t, nil
}

func isJSONNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}

func (s *Server) deleteEventType(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	err := requireScope(r, scopes.Custom, "archive event types")
	if err == nil {
		err = s.cfg.Store.ArchiveEventType(r.Context(), t.ID, r.PathValue("type"), s.cfg.Now())
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.forgetTypes(t.ID)
	w.WriteHeader(http.StatusNoContent)
}

// Settings are a tenant's settings (GET and PATCH /v1/settings).
type Settings struct {
	StrictEventTypes *bool `json:"strict_event_types"`
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	t, err := s.cfg.Store.GetTenant(r.Context(), TenantFrom(r.Context()).ID)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, Settings{StrictEventTypes: &t.StrictEventTypes})
}

// patchSettings changes a tenant's settings (admin scope); on this node at
// once, on others once their key cache renews (at most 10 s).
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request) {
	var in Settings
	err := DecodeJSON(w, r, maxJSONBody, &in)
	if err == nil {
		err = requireScope(r, scopes.Admin, "change settings")
	}
	var t *slotwire.Tenant
	if err == nil {
		t, err = s.cfg.Store.GetTenant(r.Context(), TenantFrom(r.Context()).ID)
	}
	if err == nil && in.StrictEventTypes != nil {
		t.StrictEventTypes = *in.StrictEventTypes
		err = s.cfg.Store.UpdateTenant(r.Context(), t)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	s.keys.dropWhere(func(e cachedKey) bool { return e.tenant.ID == t.ID })
	WriteJSON(w, http.StatusOK, Settings{StrictEventTypes: &t.StrictEventTypes})
}
