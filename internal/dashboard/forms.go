package dashboard

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/slotwire/slotwire/client"
)

// endpointForm is the endpoint form's fields as shown and as sent back.
type endpointForm struct {
	ID                                  string // "" for a new endpoint
	Type, URL, Email, Description       string
	EventTypes                          []string // the catalog's types ticked
	OtherTypes                          string   // patterns typed in, comma-separated
	SourceApps, SourceTypes             string
	Filter, Transform, PayloadFormat    string
	SignatureProfile, SignatureHeader   string
	Headers, HeadersWas                 string
	AuthType, Username, TokenURL        string
	ClientID, Scope                     string
	HasAuth                             bool
	MaxConcurrency, RateLimit, Ordering string
	Catalog                             []client.EventType
	PreviewType                         string
	Preview                             *client.Preview
	PreviewError                        string
}

// formOf fills the form from an endpoint.
func formOf(e *client.Endpoint) endpointForm {
	f := endpointForm{ID: e.ID, Type: e.Type, URL: e.URL, Email: e.Email, Description: e.Description,
		SourceApps: strings.Join(e.SourceApps, ", "), SourceTypes: strings.Join(e.SourceTypes, ", "),
		Filter: e.Filter, Transform: e.Transform, PayloadFormat: e.PayloadFormat, Ordering: e.Ordering,
		SignatureProfile: e.SignatureProfile, SignatureHeader: e.SignatureHeader, AuthType: "none"}
	f.EventTypes = e.EventTypes
	var lines []string
	for k, v := range e.Headers {
		lines = append(lines, k+": "+v)
	}
	slices.Sort(lines)
	f.Headers = strings.Join(lines, "\n")
	f.HeadersWas = f.Headers
	if e.Auth != nil && e.Auth.Type != "" && e.Auth.Type != "none" {
		f.HasAuth, f.AuthType, f.Username, f.TokenURL, f.ClientID, f.Scope =
			true, e.Auth.Type, e.Auth.Username, e.Auth.TokenURL, e.Auth.ClientID, e.Auth.Scope
	}
	if e.MaxConcurrency > 0 {
		f.MaxConcurrency = strconv.Itoa(e.MaxConcurrency)
	}
	if e.RateLimit > 0 {
		f.RateLimit = strconv.Itoa(e.RateLimit)
	}
	return f
}

// readForm reads the posted form; catalog types ticked are split from the
// other patterns so the form shows them again as they were.
func readForm(r *http.Request, id string) endpointForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := endpointForm{ID: id, Type: v("type"), URL: v("url"), Email: v("email"), Description: v("description"),
		OtherTypes: v("other_types"), SourceApps: v("source_apps"), SourceTypes: v("source_types"),
		Filter: v("filter"), Transform: v("transform"), PayloadFormat: v("payload_format"),
		SignatureProfile: v("signature_profile"), SignatureHeader: v("signature_header"),
		Headers:    strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("headers"), "\r\n", "\n")),
		HeadersWas: strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("headers_was"), "\r\n", "\n")),
		AuthType:   v("auth_type"), Username: v("username"), TokenURL: v("token_url"), ClientID: v("client_id"),
		Scope: v("scope"), HasAuth: v("has_auth") == "1", MaxConcurrency: v("max_concurrency"),
		RateLimit: v("rate_limit"), Ordering: v("ordering"), PreviewType: v("preview_type")}
	f.EventTypes = r.PostForm["event_types"]
	return f
}

// types are the event types the form selects: those ticked and those typed.
func (f *endpointForm) types() []string {
	out := append([]string(nil), f.EventTypes...)
	for _, t := range splitList(f.OtherTypes) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// input is the API request the form makes. Fields the API keeps masked
// (header values, passwords) are only sent when the user changed them.
func (f *endpointForm) input(r *http.Request, creating bool) (client.EndpointInput, string) {
	in := client.EndpointInput{Description: &f.Description, Filter: &f.Filter, Transform: &f.Transform,
		PayloadFormat: nonEmpty(f.PayloadFormat), SignatureProfile: nonEmpty(f.SignatureProfile),
		SignatureHeader: nonEmpty(f.SignatureHeader), Ordering: &f.Ordering}
	types := f.types()
	in.EventTypes = &types
	apps, srcTypes := splitList(f.SourceApps), splitList(f.SourceTypes)
	in.SourceApps, in.SourceTypes = &apps, &srcTypes
	if creating {
		in.Type = nonEmpty(f.Type)
	}
	switch f.Type {
	case "email":
		in.Email = &f.Email
	case "pull":
	default:
		in.URL = &f.URL
	}
	if creating || f.Headers != f.HeadersWas {
		h, bad := parseHeaders(f.Headers)
		if bad != "" {
			return in, bad
		}
		in.Headers = &h
	}
	for _, field := range []struct {
		text string
		to   **int
	}{{f.MaxConcurrency, &in.MaxConcurrency}, {f.RateLimit, &in.RateLimit}} {
		if field.text == "" {
			continue
		}
		n, err := strconv.Atoi(field.text)
		if err != nil || n < 0 {
			return in, "Max concurrency and rate limit are whole numbers."
		}
		*field.to = &n
	}
	in.Auth = f.auth(r)
	return in, ""
}

// auth is the outgoing auth to send: a new password or client secret sets
// it; choosing none removes one; otherwise it is left as it is.
func (f *endpointForm) auth(r *http.Request) *client.EndpointAuth {
	password, secret := r.PostFormValue("password"), r.PostFormValue("client_secret")
	switch {
	case f.AuthType == "none" && f.HasAuth:
		return &client.EndpointAuth{Type: "none"}
	case f.AuthType == "basic" && password != "":
		return &client.EndpointAuth{Type: "basic", Username: f.Username, Password: password}
	case f.AuthType == "oauth2" && secret != "":
		return &client.EndpointAuth{Type: "oauth2", TokenURL: f.TokenURL, ClientID: f.ClientID, ClientSecret: secret, Scope: f.Scope}
	}
	return nil
}

// parseHeaders reads "Name: value" lines.
func parseHeaders(text string) (map[string]string, string) {
	h := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, "Headers are one per line, as “Name: value”."
		}
		h[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return h, ""
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
