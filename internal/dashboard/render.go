package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/slotwire/slotwire/client"
)

//go:embed templates/*.html static/*
var files embed.FS

// view is what a handler gives a page: its title, which navigation item
// is current, its data, and a problem or notice to show.
type view struct {
	Title  string
	Nav    string
	Data   any
	Error  string
	Notice string
}

// pageData is what a template executes with.
type pageData struct {
	view
	SignedIn bool
	Operator bool
	Portal   bool
	Tenant   string
	CSRF     string
}

// assets are the embedded static files with the digest that busts caches.
type assets map[string]string // file -> short digest

func loadAssets() (assets, error) {
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard assets: %w", err)
	}
	a := assets{}
	for _, e := range entries {
		b, err := files.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("dashboard asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		a[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return a, nil
}

// url is where a static file is served: its digest in the query, so a new
// binary's file is fetched afresh and an old one is cached for good.
func (a assets) url(name string) string { return "/static/" + name + "?v=" + a[name] }

// static serves an embedded file.
func (d *Dashboard) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := files.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	if v := r.URL.Query().Get("v"); v != "" && v == d.assets[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}

func parsePages(a assets) (map[string]*template.Template, error) {
	base, err := template.New("base.html").Funcs(funcs(a)).ParseFS(files, "templates/base.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := path.Base(n)
		if name == "base.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(files, n)
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

func funcs(a assets) template.FuncMap {
	return template.FuncMap{
		"asset": a.url,
		"when":  when,
		"ago":   ago,
		"pct": func(r *float64) string {
			if r == nil {
				return "–"
			}
			return fmt.Sprintf("%.1f %%", *r*100)
		},
		"ms": func(v *float64) string {
			if v == nil {
				return "–"
			}
			return fmt.Sprintf("%.0f ms", *v)
		},
		"pretty":    pretty,
		"statusTag": statusTag,
		"codeClass": codeClass,
		"join":      strings.Join,
		"target":    target,
		"list":      func(v ...string) []string { return v },
		"hourChart": hourChart,
		"dayChart":  dayChart,
		"has": func(list []string, v string) bool {
			for _, x := range list {
				if x == v {
					return true
				}
			}
			return false
		},
	}
}

func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "–"
		}
		return v.UTC().Format("2006-01-02 15:04:05 UTC")
	case *time.Time:
		if v == nil {
			return "–"
		}
		return when(*v)
	}
	return ""
}

func ago(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// pretty indents JSON; anything else is shown as it is.
func pretty(v any) string {
	var raw []byte
	switch b := v.(type) {
	case json.RawMessage:
		raw = b
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		out, _ := json.MarshalIndent(v, "", "  ")
		return string(out)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// statusTag is the CSS class of a delivery status.
func statusTag(status string) string {
	switch status {
	case client.StatusSucceeded:
		return "ok"
	case client.StatusFailed:
		return "bad"
	case client.StatusFiltered:
		return "muted"
	}
	return "wait"
}

func codeClass(code int) string {
	switch {
	case code == 0:
		return "muted"
	case code < 300:
		return "ok"
	case code < 500:
		return "warn"
	}
	return "bad"
}

// render executes a page; s is nil for a signed-out visitor.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, s *session, v view) {
	data := pageData{view: v}
	if s != nil {
		data.SignedIn, data.Operator, data.CSRF = true, s.principal.Operator, s.csrf
		data.Portal = s.stored.Kind == "portal"
		if s.principal.Tenant != nil {
			data.Tenant = s.principal.Tenant.Name
		}
	}
	var buf bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&buf, "base.html", data); err != nil {
		d.log.ErrorContext(r.Context(), "dashboard: rendering", "page", page, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows an API error as a page: not found as 404 (another tenant's
// ids look exactly like ids that do not exist), a refused request with
// its message, anything else as a 500 that is logged.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		title := "Not possible"
		if ae.Status == http.StatusNotFound {
			title = "Not found"
		}
		d.render(w, r, ae.Status, "error.html", s, view{Title: title, Data: ae.Message})
		return
	}
	d.log.ErrorContext(r.Context(), "dashboard: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	d.render(w, r, http.StatusInternalServerError, "error.html", s, view{Title: "Something went wrong",
		Data: "The request failed on the server; it was logged. Try again shortly."})
}

// problem is the message of an API error refusing a form, or "".
func problem(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusNotFound {
		return ae.Message
	}
	return ""
}
