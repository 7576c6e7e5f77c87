package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
	"github.com/slotwire/slotwire/internal/scopes"
	"github.com/slotwire/slotwire/internal/store"
)

// Principal is who a request served in-process acts as: the web
// dashboard's session. Operator sessions act with the admin token's rights;
// tenant sessions as their tenant, with Key's scopes.
type Principal struct {
	Operator bool
	Tenant   *slotwire.Tenant
	Key      *slotwire.APIKey
}

type principalKey struct{}

// principalFrom returns the principal of a request made through
// Transport; nil for every request that came over the network.
func principalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Transport serves requests on this server in-process, as p: the routes,
// their validation, scopes and tenant isolation are exactly the API's, with
// no credentials sent and no network round trip. The dashboard's client
// uses it.
func (s *Server) Transport(p *Principal) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		w := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		return &http.Response{StatusCode: w.status, Status: http.StatusText(w.status), Header: w.header,
			Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: r,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// bufferedResponse is the ResponseWriter of an in-process request.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// SignIn checks what a user typed into the dashboard's sign-in form: the
// admin token (operator) or a tenant API key. Anything else is an
// unauthorized error.
func (s *Server) SignIn(ctx context.Context, secret string) (*Principal, error) {
	if s.cfg.AdminToken != "" && constantTimeEqual(secret, s.cfg.AdminToken) {
		return &Principal{Operator: true}, nil
	}
	k, t, err := s.cfg.Store.KeyByHash(ctx, HashKey(secret))
	if slotwire.ErrorCode(err) == slotwire.ECodeNotFound {
		return nil, errorf(slotwire.ECodeUnauthorized, "that is neither a valid API key nor the admin token")
	}
	if err != nil {
		return nil, err
	}
	return &Principal{Tenant: t, Key: k}, nil
}

// OperatorDigest identifies the admin token an operator's session was
// opened with, without holding it: a new token ends the old sessions.
func (s *Server) OperatorDigest() string {
	sum := sha256.Sum256([]byte("slotwire operator session\x00" + s.cfg.AdminToken))
	return "admin:" + hex.EncodeToString(sum[:8])
}

// SessionPrincipal is who a stored dashboard session acts as, read afresh:
// a tenant's session ends when its API key is revoked and holds at most
// the key's scopes; an operator's ends when the admin token changed.
func (s *Server) SessionPrincipal(ctx context.Context, sess *store.Session) (*Principal, error) {
	if sess.Kind == store.SessionOperator {
		if s.cfg.AdminToken == "" || sess.APIKeyID != s.OperatorDigest() {
			return nil, fmt.Errorf("operator session of another admin token: %w", slotwire.ErrNotFound)
		}
		return &Principal{Operator: true}, nil
	}
	t, err := s.cfg.Store.GetTenant(ctx, sess.TenantID)
	if err != nil {
		return nil, err
	}
	keys, err := s.cfg.Store.ListAPIKeys(ctx, sess.TenantID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k *slotwire.APIKey) bool { return k.ID == sess.APIKeyID })
	if i < 0 {
		return nil, fmt.Errorf("the session's API key was revoked: %w", slotwire.ErrNotFound)
	}
	k := *keys[i]
	k.Scopes = narrow(k.Scopes, sess.Scopes)
	return &Principal{Tenant: t, Key: &k}, nil
}

// narrow returns the scopes of want that held covers (all of held when
// want is empty).
func narrow(held, want []string) []string {
	if len(want) == 0 {
		return held
	}
	var out []string
	for _, w := range want {
		if scopes.Holds(held, w) {
			out = append(out, w)
		}
	}
	return out
}

// withPrincipal returns the principal of an in-process request (nil for
// requests from the network) and, for a tenant's, the request carrying
// its tenant and key as an authenticated request does.
func withPrincipal(r *http.Request) (*http.Request, *Principal) {
	p := principalFrom(r.Context())
	if p == nil || p.Tenant == nil {
		return r, p
	}
	return r.WithContext(httpx.WithKey(httpx.WithTenant(r.Context(), p.Tenant), p.Key)), p
}
