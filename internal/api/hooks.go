package api

import (
	"encoding/json"
	"net/http"

	"github.com/slotwire/slotwire"
)

// HookInput is the body of POST /v1/hooks (REST Hooks, as Zapier and Power
// Automate subscribe): one event type or several.
type HookInput struct {
	TargetURL string   `json:"target_url"`
	Event     string   `json:"event"`
	Events    []string `json:"events"`
}

// Hook is a REST hook subscription.
type Hook struct {
	ID        string   `json:"id"`
	TargetURL string   `json:"target_url"`
	Events    []string `json:"events"`
	// Secret signs what the hook receives (Standard Webhooks).
	Secret string `json:"secret,omitempty"`
}

// SampleSource returns the example data of an event type, if it has one.
type SampleSource func(eventType string) (json.RawMessage, bool)

func (s *Server) createHook(w http.ResponseWriter, r *http.Request) {
	var in HookInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	events := in.Events
	if in.Event != "" {
		events = append([]string{in.Event}, events...)
	}
	if in.TargetURL == "" || len(events) == 0 {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "target_url and event (or events) are required"))
		return
	}
	e, err := s.newEndpoint(r, &EndpointInput{URL: &in.TargetURL, EventTypes: &events, Description: ptrTo("REST hook")}, true)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/hooks/"+e.ID)
	WriteJSON(w, http.StatusCreated, Hook{ID: e.ID, TargetURL: e.URL, Events: e.EventTypes, Secret: e.Secret})
}

// deleteHook removes a REST hook (only hooks: other endpoints are removed
// with DELETE /v1/endpoints/{id}).
func (s *Server) deleteHook(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "remove this hook")
	if err == nil && !e.RESTHook {
		err = errorf(slotwire.ECodeNotFound, "hook not found")
	}
	if err == nil {
		err = s.cfg.Store.DeleteEndpoint(r.Context(), e.TenantID, e.ID)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// hookSample answers an event type's example as the list Zapier's
// perform-list expects: [payload].
func (s *Server) hookSample(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("event")
	if err := s.typeInScope(r, typ, "see samples of "+typ); err != nil {
		s.Fail(w, r, err)
		return
	}
	var data json.RawMessage
	ok := false
	if s.cfg.Sample != nil {
		data, ok = s.cfg.Sample(typ)
	}
	if !ok {
		s.Fail(w, r, errorf(slotwire.ECodeNotFound, "no sample for event type %q", typ))
		return
	}
	ev := &slotwire.Event{ID: "evt_sample", Type: typ, Data: data, CreatedAt: s.cfg.Now().UTC()}
	WriteJSON(w, http.StatusOK, []json.RawMessage{ev.BuildPayload()})
}

func ptrTo[T any](v T) *T { return &v }
