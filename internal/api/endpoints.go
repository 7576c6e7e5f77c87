package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/jq"
	"github.com/slotwire/slotwire/internal/validate"
	"github.com/slotwire/slotwire/signature"
)

// EndpointInput is the body of POST and PATCH /v1/endpoints: absent fields
// are left as they are (PATCH) or take their defaults (POST).
type EndpointInput struct {
	// Type is "http" (the default: URL) or "email" (Email); it cannot
	// change.
	Type           *string            `json:"type"`
	Email          *string            `json:"email"`
	URL            *string            `json:"url"`
	EventTypes     *[]string          `json:"event_types"`
	Description    *string            `json:"description"`
	Enabled        *bool              `json:"enabled"`
	Headers        *map[string]string `json:"headers"`
	Secret         *string            `json:"secret"`
	MaxConcurrency *int               `json:"max_concurrency"`
	Ordering       *string            `json:"ordering"`
	RateLimit      *int               `json:"rate_limit_per_second"`
	SourceApps     *[]string          `json:"source_apps"`
	SourceTypes    *[]string          `json:"source_types"`
	PayloadFormat  *string            `json:"payload_format"`
	// SignatureProfile and SignatureHeader: how requests are signed.
	SignatureProfile *string `json:"signature_profile"`
	SignatureHeader  *string `json:"signature_header"`
	// Verify: deliver nothing until the URL echoed a challenge.
	Verify *bool `json:"verify"`
	// Filter and Transform: jq expressions ("" removes them).
	Filter    *string `json:"filter"`
	Transform *string `json:"transform"`
	// Offset picks the appointment.starting and appointment.ended events
	// fired that far from the start or end ("" the moment itself).
	Offset *string `json:"offset"`
	// Auth and TLS: how Slotwire authenticates to the receiver.
	Auth *slotwire.EndpointAuth `json:"auth"`
	TLS  *slotwire.EndpointTLS  `json:"tls"`
}

// EndpointWithSecret is the answer to creating an endpoint.
type EndpointWithSecret struct {
	*slotwire.Endpoint
	// Secret signs the requests; for standard-ed25519 it stays with
	// Slotwire and PublicKey is what receivers verify with.
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// revealed is what the API shows of an endpoint's signing key: the
// secret, or the public key of an Ed25519 one (whose secret key is never
// shown).
func revealed(e *slotwire.Endpoint) (secret, publicKey string) {
	if e.SignatureProfile == signature.ProfileEd25519 {
		pub, _ := signature.PublicKey(e.Secret)
		return "", pub
	}
	return e.Secret, ""
}

// apply validates in (with the rules of package validate) and copies it
// onto e.
func (s *Server) apply(r *http.Request, e *slotwire.Endpoint, in *EndpointInput) error {
	if err := applyType(e, in); err != nil {
		return err
	}
	if in.URL != nil {
		u, err := validate.URLShape(*in.URL)
		if err != nil {
			return err
		}
		if err := s.cfg.Guard.CheckURL(r.Context(), u); err != nil {
			return errorf(slotwire.ECodeUnprocessable, "url refused: %v", err)
		}
		e.URL = u
	}
	if in.Enabled != nil {
		setEnabled(e, *in.Enabled)
	}
	if in.Verify != nil {
		e.Verify = *in.Verify
	}
	if err := s.applyAuth(r, e, in); err != nil {
		return err
	}
	if err := applyJQ(e, in); err != nil {
		return err
	}
	if err := set(in.Offset, &e.Offset, validate.Offset); err != nil {
		return err
	}
	if err := set(in.SignatureProfile, &e.SignatureProfile, validate.SignatureProfile); err != nil {
		return err
	}
	secretRule := validate.Secret
	if p := e.SignatureProfile; p == signature.ProfileHexHMAC || p == signature.ProfileTimestamped {
		secretRule = validate.PlainSecret // keyed with the string as given
	}
	if err := keyForProfile(e, in); err != nil {
		return err
	}
	return firstErr(
		set(in.EventTypes, &e.EventTypes, validate.EventTypes),
		set(in.Description, &e.Description, validate.Description),
		set(in.Headers, &e.Headers, validate.EndpointHeaders),
		set(in.Secret, &e.Secret, secretRule),
		set(in.SignatureHeader, &e.SignatureHeader, validate.SignatureHeader),
		set(in.MaxConcurrency, &e.MaxConcurrency, validate.MaxConcurrency),
		set(in.Ordering, &e.Ordering, validate.Ordering),
		set(in.RateLimit, &e.RateLimit, validate.RateLimit),
		set(in.SourceApps, &e.SourceApps, validate.SourceList("source_apps")),
		set(in.SourceTypes, &e.SourceTypes, validate.SourceList("source_types")),
		set(in.PayloadFormat, &e.PayloadFormat, validate.PayloadFormat),
		transformNeedsNested(e),
	)
}

// httpOnly are the fields of an HTTP endpoint's requests, with whether
// in sets one of them to something.
func httpOnly(in *EndpointInput) []struct {
	name string
	set  bool
} {
	return []struct {
		name string
		set  bool
	}{
		{"url", in.URL != nil && *in.URL != ""},
		{"headers", in.Headers != nil && len(*in.Headers) > 0},
		{"auth", in.Auth != nil && in.Auth.Type != "none"},
		{"tls", in.TLS != nil && *in.TLS != (slotwire.EndpointTLS{})},
		{"verify", in.Verify != nil && *in.Verify},
	}
}

// applyType checks the fields of the endpoint's type and sets its
// address: an e-mail endpoint has one and none of the settings of HTTP
// requests, a pull endpoint has neither an address nor those settings (it
// is never sent anything), an HTTP endpoint has no address. The type
// cannot change.
func applyType(e *slotwire.Endpoint, in *EndpointInput) error {
	if in.Type != nil {
		t, err := validate.EndpointType(*in.Type)
		if err != nil {
			return err
		}
		if t != e.Type {
			return errorf(slotwire.ECodeInvalid, "type cannot be changed (this endpoint is %q): create another endpoint", e.Type)
		}
	}
	switch {
	case e.IsPull():
		if in.Email != nil && *in.Email != "" {
			return errorf(slotwire.ECodeInvalid, "email is not for pull endpoints: their receiver reads GET /v1/endpoints/{id}/feed")
		}
		return noHTTPFields(in, "pull endpoints: their receiver reads GET /v1/endpoints/{id}/feed and is never sent requests")
	case !e.IsEmail():
		if in.Email != nil {
			return errorf(slotwire.ECodeInvalid, "email is for endpoints of type \"email\"; this one has a url")
		}
		return nil
	}
	if err := noHTTPFields(in, "e-mail endpoints: their deliveries are e-mails sent through the node's SMTP server"); err != nil {
		return err
	}
	return set(in.Email, &e.Email, validate.Email)
}

// noHTTPFields refuses the settings of HTTP requests on an endpoint of
// another type (what names it and why).
func noHTTPFields(in *EndpointInput, what string) error {
	for _, f := range httpOnly(in) {
		if f.set {
			return errorf(slotwire.ECodeInvalid, "%s is not for %s", f.name, what)
		}
	}
	return nil
}

// transformNeedsNested: a transform makes the body, so payload_format must
// be nested with it.
func transformNeedsNested(e *slotwire.Endpoint) error {
	if e.Transform != "" && e.PayloadFormat != "" && e.PayloadFormat != slotwire.FormatNested {
		return errorf(slotwire.ECodeInvalid, "a transform makes the body: payload_format must be nested with it")
	}
	return nil
}

// keyForProfile gives an endpoint switched to standard-ed25519 a key pair
// (a secret cannot be given for it), and one switched away from it a new
// secret unless one is given.
func keyForProfile(e *slotwire.Endpoint, in *EndpointInput) error {
	ed := e.SignatureProfile == signature.ProfileEd25519
	hasPair := strings.HasPrefix(e.Secret, signature.SecretKeyPrefix)
	switch {
	case ed && in.Secret != nil:
		return errorf(slotwire.ECodeInvalid, "an Ed25519 endpoint's key pair is made by Slotwire; do not send secret")
	case ed && !hasPair:
		e.Secret, _ = signature.NewKeyPair()
		e.PreviousSecret, e.PreviousSecretUntil = "", nil
	case !ed && hasPair && in.Secret == nil:
		e.Secret = signature.NewSecret(slotwire.RandomToken(32))
		e.PreviousSecret, e.PreviousSecretUntil = "", nil
	}
	return nil
}

// set stores check(*in) in *dst when the field was given.
func set[T, V any](in *T, dst *V, check func(T) (V, error)) error {
	if in == nil {
		return nil
	}
	v, err := check(*in)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func setEnabled(e *slotwire.Endpoint, on bool) {
	if on && !e.Enabled {
		e.DisabledReason, e.FailingSince = "", nil
	}
	if !on && e.Enabled {
		e.DisabledReason = "disabled through the API"
	}
	e.Enabled = on
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var in EndpointInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	e, err := s.newEndpoint(r, &in, false)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if e.Offset != "" {
		s.offsetsChanged(r, e.TenantID)
	}
	secret, pub := revealed(e)
	WriteJSON(w, http.StatusCreated, EndpointWithSecret{Endpoint: masked(e), Secret: secret, PublicKey: pub})
}

// offsetsChanged tells the scheduling core an endpoint's offset changed.
func (s *Server) offsetsChanged(r *http.Request, tenantID string) {
	if s.cfg.OffsetsChanged != nil {
		s.cfg.OffsetsChanged(r.Context(), tenantID)
	}
}

// newEndpoint validates and stores a new endpoint (a REST hook if hook),
// within the tenant's plan and the key's scopes.
func (s *Server) newEndpoint(r *http.Request, in *EndpointInput, hook bool) (*slotwire.Endpoint, error) {
	t := TenantFrom(r.Context())
	if err := s.underEndpointCap(r, t.ID); err != nil {
		return nil, err
	}
	typ, err := s.newEndpointType(in)
	if err != nil {
		return nil, err
	}
	if in.EventTypes == nil {
		return nil, errorf(slotwire.ECodeInvalid, "event_types is required (use [\"*\"] for every event)")
	}
	now := s.cfg.Now().UTC()
	e := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: t.ID, Type: typ, Enabled: true, RESTHook: hook,
		Headers: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	err = s.apply(r, e, in)
	if err == nil {
		err = s.endpointInScope(r, e, "subscribe to these event types")
	}
	if err == nil {
		err = s.checkSubscribable(r, e)
	}
	if err != nil {
		return nil, err
	}
	if e.Secret == "" {
		e.Secret = signature.NewSecret(slotwire.RandomToken(32))
	}
	if err := s.cfg.Store.CreateEndpoint(r.Context(), e); err != nil {
		return nil, err
	}
	s.verifyIfPending(r, e)
	return e, nil
}

// newEndpointType is the type of a new endpoint and checks that it has
// its receiver: a url, or an e-mail address and the node's SMTP server.
func (s *Server) newEndpointType(in *EndpointInput) (string, error) {
	typ := slotwire.EndpointHTTP
	if in.Type != nil {
		t, err := validate.EndpointType(*in.Type)
		if err != nil {
			return "", err
		}
		typ = t
	}
	switch {
	case typ == slotwire.EndpointHTTP && in.URL == nil:
		return "", errorf(slotwire.ECodeInvalid, "url is required (or \"type\":\"email\" with an email, or \"type\":\"pull\")")
	case typ == slotwire.EndpointEmail && in.Email == nil:
		return "", errorf(slotwire.ECodeInvalid, "email is required for an endpoint of type \"email\"")
	case typ == slotwire.EndpointEmail && !s.cfg.SMTP:
		return "", errorf(slotwire.ECodeSMTPNotConfigured,
			"this server has no SMTP server configured (--smtp-url), so it cannot deliver e-mails; ask its operator")
	}
	return typ, nil
}

// verifyIfPending challenges an endpoint with verify whose URL has not
// echoed one yet (a new endpoint, a changed URL), within the request; it
// stays pending_verification if the receiver does not echo.
func (s *Server) verifyIfPending(r *http.Request, e *slotwire.Endpoint) {
	e.PendingVerification = e.Verify && e.VerifiedURL != e.URL
	if !e.PendingVerification || s.cfg.Tester == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	if ok, _ := s.cfg.Tester.Verify(ctx, e); !ok {
		return
	}
	if ok, err := s.cfg.Store.MarkVerified(r.Context(), e.TenantID, e.ID, e.URL); err == nil && ok {
		e.VerifiedURL, e.PendingVerification = e.URL, false
		if s.cfg.Waker != nil {
			s.cfg.Waker.Wake(e.ID) // deliveries queued while pending go now
		}
	}
}

// verifyTimeout bounds how long a create or change waits for the
// challenge's echo.
const verifyTimeout = 5 * time.Second

// verifyEndpoint challenges the endpoint now (POST /v1/endpoints/{id}/verify).
func (s *Server) verifyEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "verify this endpoint")
	if err == nil && !e.Verify {
		err = errorf(slotwire.ECodeInvalid, "this endpoint does not ask for verification (verify is false)")
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	e.VerifiedURL = "" // challenge again, even if verified
	s.verifyIfPending(r, e)
	WriteJSON(w, http.StatusOK, map[string]bool{"verified": !e.PendingVerification})
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
	// The cursor follows the page read, the data only what the key covers.
	l := NewList(eps, p, func(e *slotwire.Endpoint) string { return e.ID })
	l.Data = s.visibleEndpoints(r, l.Data)
	for i, e := range l.Data {
		l.Data[i] = masked(e)
	}
	WriteJSON(w, http.StatusOK, l)
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "read this endpoint")
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, masked(e))
}

func (s *Server) endpointSecret(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "read this endpoint's secret")
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if secret, pub := revealed(e); pub != "" {
		WriteJSON(w, http.StatusOK, map[string]string{"public_key": pub})
	} else {
		WriteJSON(w, http.StatusOK, map[string]string{"secret": secret})
	}
}

// applyJQ compiles and sets the endpoint's filter and transform (422 with
// the parser's message).
func applyJQ(e *slotwire.Endpoint, in *EndpointInput) error {
	for _, f := range []struct {
		in   *string
		dst  *string
		name string
	}{{in.Filter, &e.Filter, "filter"}, {in.Transform, &e.Transform, "transform"}} {
		if f.in == nil {
			continue
		}
		if *f.in != "" {
			if _, err := jq.Compile(*f.in); err != nil {
				return errorf(slotwire.ECodeUnprocessable, "%s does not compile: %v", f.name, err)
			}
		}
		*f.dst = *f.in
	}
	return nil
}

// applyAuth checks and sets the endpoint's outgoing auth and TLS: the
// token URL is a URL Slotwire may reach, the certificates parse.
func (s *Server) applyAuth(r *http.Request, e *slotwire.Endpoint, in *EndpointInput) error {
	if in.Auth != nil {
		a, err := validate.Auth(in.Auth)
		if err != nil {
			return err
		}
		if a != nil && a.Type == slotwire.AuthOAuth2 {
			if err := s.cfg.Guard.CheckURL(r.Context(), a.TokenURL); err != nil {
				return errorf(slotwire.ECodeUnprocessable, "auth token_url refused: %v", err)
			}
		}
		e.Auth = a
	}
	if in.TLS != nil {
		e.TLS = in.TLS
		if *in.TLS == (slotwire.EndpointTLS{}) {
			e.TLS = nil
		} else if _, err := dispatch.TLSConfig(in.TLS); err != nil {
			return errorf(slotwire.ECodeInvalid, "%v", err)
		}
	}
	return nil
}

// rotateInput is the body of POST /v1/endpoints/{id}/secret/rotate.
type rotateInput struct {
	// Grace is how long the old secret keeps signing too (a Go duration,
	// default 24h, at most 7 days; "0s": not at all).
	Grace *string `json:"grace"`
	// Secret is the new secret (default: 32 random bytes).
	Secret *string `json:"secret"`
}

// maxGrace bounds a rotation's grace period.
const maxGrace = 7 * 24 * time.Hour

// rotateSecret gives the endpoint a new signing secret; for the grace
// period each request carries a signature from both.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	var in rotateInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	var e *slotwire.Endpoint
	if err == nil {
		e, err = s.scopedEndpoint(r, "rotate this endpoint's secret")
	}
	grace := 24 * time.Hour
	if err == nil && in.Grace != nil {
		grace, err = time.ParseDuration(*in.Grace)
		if err != nil || grace < 0 || grace > maxGrace {
			err = errorf(slotwire.ECodeInvalid, "grace must be a duration from 0s to 168h, such as \"24h\"")
		}
	}
	secret := signature.NewSecret(slotwire.RandomToken(32))
	if err == nil && e.SignatureProfile == signature.ProfileEd25519 {
		secret, _ = signature.NewKeyPair()
		if in.Secret != nil {
			err = errorf(slotwire.ECodeInvalid, "an Ed25519 endpoint's key pair is made by Slotwire; rotate without secret")
		}
	} else if err == nil && in.Secret != nil {
		if p := e.SignatureProfile; p == signature.ProfileHexHMAC || p == signature.ProfileTimestamped {
			secret, err = validate.PlainSecret(*in.Secret)
		} else {
			secret, err = validate.Secret(*in.Secret)
		}
	}
	if err == nil {
		now := s.cfg.Now().UTC()
		e.PreviousSecret, e.PreviousSecretUntil, e.Secret, e.UpdatedAt = e.Secret, nil, secret, now
		if grace > 0 {
			until := now.Add(grace)
			e.PreviousSecretUntil = &until
		}
		err = s.cfg.Store.UpdateEndpoint(r.Context(), e)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	out := map[string]any{"previous_secret_until": e.PreviousSecretUntil}
	if secret, pub := revealed(e); pub != "" {
		out["public_key"] = pub
	} else {
		out["secret"] = secret
	}
	WriteJSON(w, http.StatusOK, out)
}

// testEndpoint sends a signed webhook.test event to the endpoint now
// (enabled or not) and answers with what the receiver said; nothing is
// stored. It counts against the tenant's events-per-second limit.
func (s *Server) testEndpoint(w http.ResponseWriter, r *http.Request) {
	t := TenantFrom(r.Context())
	e, err := s.scopedEndpoint(r, "test this endpoint")
	if err == nil {
		err = s.allowPublish(w, t.ID, 1)
	}
	if err == nil && e.IsPull() {
		err = errorf(slotwire.ECodeInvalid, "a pull endpoint is never sent anything: publish an event and read GET /v1/endpoints/%s/feed", e.ID)
	}
	if err == nil && s.cfg.Tester == nil {
		err = errorf(slotwire.ECodeInternal, "this node cannot send test events")
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, s.cfg.Tester.Test(r.Context(), e))
}

func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "change this endpoint")
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	var in EndpointInput
	if err := DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		s.Fail(w, r, err)
		return
	}
	offset := e.Offset
	err = s.apply(r, e, &in)
	if err == nil {
		err = s.endpointInScope(r, e, "subscribe to these event types")
	}
	if err == nil && in.EventTypes != nil {
		err = s.checkSubscribable(r, e)
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	e.UpdatedAt = s.cfg.Now().UTC()
	if err := s.cfg.Store.UpdateEndpoint(r.Context(), e); err != nil {
		s.Fail(w, r, err)
		return
	}
	s.verifyIfPending(r, e)
	if e.Enabled && s.cfg.Waker != nil {
		s.cfg.Waker.Wake(e.ID) // re-enabled endpoints resume at once
	}
	if e.Offset != offset {
		s.offsetsChanged(r, e.TenantID)
	}
	WriteJSON(w, http.StatusOK, masked(e))
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.scopedEndpoint(r, "delete this endpoint")
	if err == nil {
		err = s.cfg.Store.DeleteEndpoint(r.Context(), TenantFrom(r.Context()).ID, r.PathValue("id"))
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	if e.Offset != "" {
		s.offsetsChanged(r, e.TenantID)
	}
	w.WriteHeader(http.StatusNoContent)
}

// masked is a copy of e to show: header values masked, as they may hold
// credentials ("Authorization": "Bearer ****abcd"). The signing secret is
// never part of an Endpoint's JSON.
func masked(e *slotwire.Endpoint) *slotwire.Endpoint {
	cp := *e
	cp.Headers = make(map[string]string, len(e.Headers))
	for k, v := range e.Headers {
		cp.Headers[k] = maskValue(v)
	}
	if e.Auth != nil {
		a := *e.Auth
		a.Password, a.ClientSecret = maskSecret(a.Password), maskSecret(a.ClientSecret)
		cp.Auth = &a
	}
	if e.TLS != nil {
		t := *e.TLS
		t.ClientKey = maskSecret(t.ClientKey)
		cp.TLS = &t
	}
	return &cp
}

// maskSecret hides a credential whole ("" stays "").
func maskSecret(v string) string {
	if v == "" {
		return ""
	}
	return "****"
}

// maskValue keeps a value's last four characters (and a leading scheme
// word such as "Bearer"); short values are masked whole.
func maskValue(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		scheme, cred = "", v
	} else {
		scheme += " "
	}
	if len(cred) <= 8 {
		return scheme + "****"
	}
	return scheme + "****" + cred[len(cred)-4:]
}
