package api

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/signature"
)

// EndpointInput is the body of POST and PATCH /v1/endpoints: absent fields
// are left as they are (PATCH) or take their defaults (POST).
type EndpointInput struct {
	URL            *string            `json:"url"`
	EventTypes     *[]string          `json:"event_types"`
	Description    *string            `json:"description"`
	Enabled        *bool              `json:"enabled"`
	Headers        *map[string]string `json:"headers"`
	Secret         *string            `json:"secret"`
	MaxConcurrency *int               `json:"max_concurrency"`
	Ordering       *string            `json:"ordering"`
	RateLimit      *int               `json:"rate_limit_per_second"`
}

// EndpointWithSecret is the answer to creating an endpoint.
type EndpointWithSecret struct {
	*slotwire.Endpoint
	Secret string `json:"secret"`
}

var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "User-Agent": true, "Host": true, "Transfer-Encoding": true,
	"Connection": true, "Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
}

// apply validates in and copies it onto e.
func (s *Server) apply(r *http.Request, e *slotwire.Endpoint, in *EndpointInput) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if len(u) > 2048 {
			return errorf(slotwire.ECodeUnprocessable, "url is longer than 2048 characters")
		}
		if err := s.cfg.Guard.CheckURL(r.Context(), u); err != nil {
			return errorf(slotwire.ECodeUnprocessable, "url refused: %v", err)
		}
		e.URL = u
	}
	if in.EventTypes != nil {
		if len(*in.EventTypes) == 0 || len(*in.EventTypes) > 100 {
			return errorf(slotwire.ECodeInvalid, "event_types needs 1 to 100 entries (use [\"*\"] for every event)")
		}
		for _, p := range *in.EventTypes {
			if err := slotwire.ValidateEventTypePattern(p); err != nil {
				return err
			}
		}
		e.EventTypes = append([]string(nil), *in.EventTypes...)
	}
	if in.Description != nil {
		if len(*in.Description) > 1000 {
			return errorf(slotwire.ECodeInvalid, "description is longer than 1000 characters")
		}
		e.Description = *in.Description
	}
	if in.Enabled != nil {
		if *in.Enabled && !e.Enabled {
			e.DisabledReason, e.FailingSince = "", nil
		}
		if !*in.Enabled && e.Enabled {
			e.DisabledReason = "disabled through the API"
		}
		e.Enabled = *in.Enabled
	}
	if in.Headers != nil {
		if len(*in.Headers) > 20 {
			return errorf(slotwire.ECodeInvalid, "at most 20 headers")
		}
		h := map[string]string{}
		for k, v := range *in.Headers {
			ck := textproto.CanonicalMIMEHeaderKey(k)
			if !validHeaderName(k) {
				return errorf(slotwire.ECodeInvalid, "header name %q is not valid", k)
			}
			if reservedHeaders[ck] {
				return errorf(slotwire.ECodeInvalid, "header %q is set by Slotwire and cannot be overridden", k)
			}
			if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
				return errorf(slotwire.ECodeInvalid, "header %q has an invalid value", k)
			}
			h[ck] = v
		}
		e.Headers = h
	}
	if in.Secret != nil {
		if err := signature.ValidateSecret(*in.Secret); err != nil {
			return errorf(slotwire.ECodeInvalid, "secret: %v", err)
		}
		e.Secret = *in.Secret
	}
	if in.MaxConcurrency != nil {
		if *in.MaxConcurrency < 0 || *in.MaxConcurrency > 256 {
			return errorf(slotwire.ECodeInvalid, "max_concurrency must be from 1 to 256 (0: the server default)")
		}
		e.MaxConcurrency = *in.MaxConcurrency
	}
	if in.Ordering != nil {
		if *in.Ordering != slotwire.OrderingNone && *in.Ordering != slotwire.OrderingFIFO {
			return errorf(slotwire.ECodeInvalid, "ordering must be \"fifo\" or \"\"")
		}
		e.Ordering = *in.Ordering
	}
	if in.RateLimit != nil {
		if *in.RateLimit < 0 || *in.RateLimit > 100000 {
			return errorf(slotwire.ECodeInvalid, "rate_limit_per_second must be from 0 (none) to 100000")
		}
		e.RateLimit = *in.RateLimit
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for _, c := range k {
		if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	var in EndpointInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	if in.URL == nil {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "url is required"))
		return
	}
	if in.EventTypes == nil {
		s.Fail(w, r, errorf(slotwire.ECodeInvalid, "event_types is required (use [\"*\"] for every event)"))
		return
	}
	now := s.cfg.Now().UTC()
	e := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: t.ID, Enabled: true,
		Headers: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(r, e, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	if e.Secret == "" {
		e.Secret = signature.NewSecret(slotwire.RandomToken(32))
	}
	if err := s.cfg.Store.CreateEndpoint(r.Context(), e); err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, EndpointWithSecret{Endpoint: e, Secret: e.Secret})
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	p, err := PageFrom(r)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	eps, err := s.cfg.Store.ListEndpoints(r.Context(), TenantFrom(r.Context()).ID, p)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, NewList(eps, p, func(e *slotwire.Endpoint) string { return e.ID }))
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, e)
}

func (s *Server) endpointSecret(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"secret": e.Secret})
}

func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.cfg.Store.GetEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var in EndpointInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	if err := s.apply(r, e, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	e.UpdatedAt = s.cfg.Now().UTC()
	if err := s.cfg.Store.UpdateEndpoint(r.Context(), e); err != nil {
		s.Fail(w, r, err)
		return
	}
	if e.Enabled && s.cfg.Waker != nil {
		s.cfg.Waker.Wake(e.ID) // re-enabled endpoints resume at once
	}
	WriteJSON(w, http.StatusOK, e)
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.DeleteEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id")); err != nil {
		s.Fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
