// Package dashboard is Slotwire's web dashboard, served at / by every node
// that serves the API: a tenant signs in with an API key (or opens a
// portal link) and sees and fixes its endpoints and deliveries; an
// operator signs in with the admin token and sees tenants, nodes and the
// queue.
//
// Pages are rendered on the server with html/template from files embedded
// in the binary; a little JavaScript only enhances them. Every page reads
// and acts through the JSON API, served in-process as the session's
// principal (api.Server.Transport) with the public client package, so
// validation, scopes and tenant isolation are exactly the API's: the
// handlers here parse forms and render answers, nothing else.
package dashboard

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/slotwire/slotwire/internal/api"
	"github.com/slotwire/slotwire/internal/store"
)

// Auth is what the dashboard needs of the API server: signing in, the
// principal of a stored session, and requests served as a principal.
type Auth interface {
	SignIn(ctx context.Context, secret string) (*api.Principal, error)
	SessionPrincipal(ctx context.Context, s *store.Session) (*api.Principal, error)
	OperatorDigest() string
	Transport(p *api.Principal) http.RoundTripper
}

// Config of the dashboard.
type Config struct {
	API      Auth
	Sessions store.Sessions
	Logger   *slog.Logger
	// SessionTTL is how long a session opened by signing in lasts
	// (default 12 h).
	SessionTTL time.Duration
	Now        func() time.Time
}

// Dashboard serves the pages.
type Dashboard struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template
	assets assets
}

// New parses the templates and registers the pages.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Dashboard{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	var err error
	if d.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if d.pages, err = parsePages(d.assets); err != nil {
		return nil, err
	}
	d.routes()
	return d, nil
}

func (d *Dashboard) routes() {
	d.mux.HandleFunc("GET /{$}", d.home)
	d.mux.HandleFunc("GET /static/{file}", d.static)
	d.mux.HandleFunc("GET /signin", d.signInPage)
	d.mux.HandleFunc("POST /signin", d.signIn)
	d.mux.HandleFunc("POST /signout", d.signOut)
	d.mux.HandleFunc("GET "+api.PortalPath+"{token}", d.openPortal)

	d.tenant("GET /endpoints", d.endpointsPage)
	d.tenant("GET /endpoints/new", d.newEndpointPage)
	d.tenant("POST /endpoints", d.createEndpoint)
	d.tenant("GET /endpoints/{id}", d.endpointPage)
	d.tenant("GET /endpoints/{id}/edit", d.editEndpointPage)
	d.tenant("POST /endpoints/{id}", d.updateEndpoint)
	d.tenant("POST /endpoints/{id}/enable", d.enableEndpoint)
	d.tenant("POST /endpoints/{id}/disable", d.disableEndpoint)
	d.tenant("POST /endpoints/{id}/rotate", d.rotateSecret)
	d.tenant("POST /endpoints/{id}/secret", d.revealSecret)
	d.tenant("POST /endpoints/{id}/test", d.testEndpoint)
	d.tenant("POST /endpoints/{id}/delete", d.deleteEndpoint)
	d.tenant("POST /endpoints/{id}/recover", d.recoverEndpoint)
	d.tenant("GET /endpoints/{id}/recovery", d.recoveryPage)

	d.tenant("GET /deliveries", d.deliveriesPage)
	d.tenant("GET /deliveries/{id}", d.deliveryPage)
	d.tenant("GET /deliveries/{id}/download", d.downloadDelivery)
	d.tenant("POST /deliveries/{id}/replay", d.replayDelivery)

	d.tenant("GET /stats", d.statsPage)
	d.tenant("GET /event-types", d.catalogPage)

	d.operator("GET /operator", d.operatorPage)
	d.mux.HandleFunc("/", d.notFound)
}

// ServeHTTP serves a page with the dashboard's security headers.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	d.mux.ServeHTTP(w, r)
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	s, err := d.session(r)
	switch {
	case err != nil:
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
	case s.principal.Operator:
		http.Redirect(w, r, "/operator", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/endpoints", http.StatusSeeOther)
	}
}

func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := d.session(r)
	d.render(w, r, http.StatusNotFound, "error.html", s, view{Title: "Not found",
		Data: "There is no page at " + r.URL.Path + "."})
}
