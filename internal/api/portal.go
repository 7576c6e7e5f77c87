package api

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/store"
)

// PortalSessionInput is the body of POST /v1/portal-sessions.
type PortalSessionInput struct {
	// Scopes narrow what the portal's visitor may do (none: the key's
	// scopes); each must be one the key holds.
	Scopes []string `json:"scopes"`
	// TTL is how long the link and the session it opens last ("1h" by
	// default, from 1m to 24h).
	TTL string `json:"ttl"`
}

// PortalSession is the answer of POST /v1/portal-sessions.
type PortalSession struct {
	URL       string    `json:"url"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Portal link lifetimes.
const (
	portalDefaultTTL = time.Hour
	portalMaxTTL     = 24 * time.Hour
	// PortalPath is where the dashboard opens portal links.
	PortalPath = "/portal/"
)

// createPortalSession is POST /v1/portal-sessions: a one-time link that
// signs its visitor in to the dashboard as the tenant, with the key's
// scopes or fewer, until it expires.
func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request) {
	var in PortalSessionInput
	err := DecodeJSON(w, r, maxJSONBody, &in)
	var ttl time.Duration
	if err == nil {
		ttl, err = portalTTL(in.TTL)
	}
	key := httpx.KeyFrom(r.Context())
	for _, sc := range in.Scopes {
		switch {
		case err != nil:
		case !s.cfg.Scopes.Valid(sc):
			err = errorf(slotwire.ECodeInvalid, "scopes: %q is not a scope (scopes: %s)", sc, strings.Join(s.cfg.Scopes.Names(), ", "))
		case !scopes.Holds(key.Scopes, sc):
			err = scopes.Missing(sc, "give it to a portal session")
		}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	token := PortalTokenPrefix + base64.RawURLEncoding.EncodeToString(slotwire.RandomToken(32))
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	sess := &store.Session{Hash: HashKey(token), TenantID: TenantFrom(r.Context()).ID, APIKeyID: key.ID,
		Kind: store.SessionPortal, Scopes: in.Scopes, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.cfg.Store.CreateSession(r.Context(), sess); err != nil {
		s.Fail(w, r, err)
		return
	}
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	WriteJSON(w, http.StatusCreated, PortalSession{URL: s.publicURL(r) + PortalPath + token, Scopes: in.Scopes, ExpiresAt: sess.ExpiresAt})
}

// PortalTokenPrefix starts every portal link's token.
const PortalTokenPrefix = "pt_"

func portalTTL(v string) (time.Duration, error) {
	if v == "" {
		return portalDefaultTTL, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute || d > portalMaxTTL {
		return 0, errorf(slotwire.ECodeInvalid, "ttl: %q is not a duration from 1m to 24h (such as \"30m\" or \"2h\")", v)
	}
	return d, nil
}

// publicURL is the server's address as its users reach it: --public-url,
// else the scheme and host of the request.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
