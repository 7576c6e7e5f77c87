package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/store"
)

// Cookies of the dashboard: the session's token, and the token of the
// sign-in form (before there is a session to bind a form to).
const (
	sessionCookie = "slotwire_session"
	signInCookie  = "slotwire_signin"
)

// session is a signed-in visitor: its stored session, the principal it
// acts as, the API client that acts as it, and its forms' CSRF token.
type session struct {
	stored    *store.Session
	principal *api.Principal
	client    *client.Client
	csrf      string
}

var errSignedOut = errors.New("not signed in")

// session returns the request's session, or errSignedOut.
func (d *Dashboard) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errSignedOut
	}
	stored, err := d.cfg.Sessions.SessionByHash(r.Context(), api.HashKey(c.Value), d.cfg.Now())
	if slotwire.ErrorCode(err) == slotwire.ECodeNotFound {
		return nil, errSignedOut
	}
	if err != nil {
		return nil, err
	}
	p, err := d.cfg.API.SessionPrincipal(r.Context(), stored)
	if slotwire.ErrorCode(err) == slotwire.ECodeNotFound {
		return nil, errSignedOut
	}
	if err != nil {
		return nil, err
	}
	cl := client.New("http://slotwire.internal", "")
	cl.HTTP = &http.Client{Transport: d.cfg.API.Transport(p)}
	return &session{stored: stored, principal: p, client: cl, csrf: csrfToken(c.Value)}, nil
}

// csrfToken is the token a session's forms carry: derived from the
// session's own token, which only its browser holds.
func csrfToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("slotwire dashboard csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// handler is a page of a signed-in visitor.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// tenant registers a tenant's page: signed-out visitors go to the sign-in
// page, operators to theirs; forms must carry the session's CSRF token.
func (d *Dashboard) tenant(pattern string, h handler) {
	d.mux.HandleFunc(pattern, d.guard(h, false))
}

// operator registers an operator's page.
func (d *Dashboard) operator(pattern string, h handler) {
	d.mux.HandleFunc(pattern, d.guard(h, true))
}

func (d *Dashboard) guard(h handler, operator bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := d.session(r)
		switch {
		case errors.Is(err, errSignedOut):
			target := "/signin"
			if r.Method == http.MethodGet {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
		case err != nil:
			d.fail(w, r, nil, err)
		case s.principal.Operator != operator:
			d.render(w, r, http.StatusNotFound, "error.html", s, view{Title: "Not found",
				Data: "This page is for " + map[bool]string{true: "operators", false: "tenants"}[operator] + "."})
		case r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), s.csrf):
			d.render(w, r, http.StatusForbidden, "error.html", s, view{Title: "Form expired",
				Data: "This form was not sent from this session. Reload the page and try again."})
		default:
			h(w, r, s)
		}
	}
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := d.session(r); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.renderSignIn(w, r, http.StatusOK, "")
}

// renderSignIn shows the sign-in form with a fresh form token.
func (d *Dashboard) renderSignIn(w http.ResponseWriter, r *http.Request, status int, problem string) {
	token := base64.RawURLEncoding.EncodeToString(slotwire.RandomToken(24))
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: token, Path: "/signin", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	d.render(w, r, status, "signin.html", nil, view{Title: "Sign in", Error: problem,
		Data: signInForm{CSRF: token, Next: safeNext(r.FormValue("next"))}})
}

type signInForm struct{ CSRF, Next string }

// signIn exchanges an API key (or the admin token) for a session cookie.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(signInCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		d.renderSignIn(w, r, http.StatusForbidden, "The sign-in form expired. Try again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("key"))
	p, err := d.cfg.API.SignIn(r.Context(), secret)
	if slotwire.ErrorCode(err) == slotwire.ECodeUnauthorized || secret == "" {
		d.renderSignIn(w, r, http.StatusUnauthorized, "That is not a valid API key.")
		return
	}
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	now := d.cfg.Now().UTC().Truncate(time.Millisecond)
	stored := &store.Session{Kind: store.SessionOperator, APIKeyID: d.cfg.API.OperatorDigest(), Opened: true,
		CreatedAt: now, ExpiresAt: now.Add(d.cfg.SessionTTL)}
	if !p.Operator {
		stored.Kind, stored.TenantID, stored.APIKeyID = store.SessionKey, p.Tenant.ID, p.Key.ID
	}
	token := newToken()
	stored.Hash = api.HashKey(token)
	if err := d.cfg.Sessions.CreateSession(r.Context(), stored); err != nil {
		d.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: "/signin", MaxAge: -1})
	d.setSessionCookie(w, r, token, stored.ExpiresAt)
	next := safeNext(r.PostFormValue("next"))
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the session everywhere (it is deleted from the database).
func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request) {
	s, err := d.session(r)
	if err == nil && !sameToken(r.PostFormValue("csrf"), s.csrf) {
		d.render(w, r, http.StatusForbidden, "error.html", s, view{Title: "Form expired",
			Data: "This form was not sent from this session. Reload the page and try again."})
		return
	}
	if err == nil {
		if err := d.cfg.Sessions.DeleteSession(r.Context(), s.stored.Hash); err != nil {
			d.fail(w, r, s, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// openPortal opens a portal link, once, and signs its visitor in.
func (d *Dashboard) openPortal(w http.ResponseWriter, r *http.Request) {
	token := newToken()
	stored, err := d.cfg.Sessions.OpenPortalLink(r.Context(), api.HashKey(r.PathValue("token")), api.HashKey(token), d.cfg.Now())
	if slotwire.ErrorCode(err) == slotwire.ECodeNotFound {
		d.render(w, r, http.StatusNotFound, "error.html", nil, view{Title: "Link expired",
			Data: "This link was already used or has expired. Ask for a new one."})
		return
	}
	if err != nil {
		d.fail(w, r, nil, err)
		return
	}
	d.setSessionCookie(w, r, token, stored.ExpiresAt)
	http.Redirect(w, r, "/endpoints", http.StatusSeeOther)
}

func (d *Dashboard) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

func newToken() string {
	return base64.RawURLEncoding.EncodeToString(slotwire.RandomToken(32))
}

// secure: the cookie is only sent over TLS when the page was reached over
// TLS (directly, or through a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	return next
}
