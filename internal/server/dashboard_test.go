package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
)

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so a test sees each answer as a browser receives it.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string // the CSRF token of the last page that had a form
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post sends a form with the current CSRF token (unless the form has one).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) signIn(secret string) {
	b.t.Helper()
	b.get("/signin")
	resp, body := b.post("/signin", url.Values{"key": {secret}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
}

func wantStatus(t *testing.T, resp *http.Response, body string, status int, contains ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	for _, c := range contains {
		if !strings.Contains(body, c) {
			t.Fatalf("%s %s: the page lacks %q\n%s", resp.Request.Method, resp.Request.URL.Path, c, body)
		}
	}
}

// TestDashboardSignInAndForms: signing in exchanges a key for an HttpOnly
// session cookie; pages carry a CSP without inline scripts; a form
// without the session's CSRF token changes nothing; an endpoint made with
// the form is the API's; the filter preview shows the body; signing out
// ends the session for good.
func TestDashboardSignInAndForms(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	acme := e.tenant("Acme")
	ctx := context.Background()
	ten, err := e.admin.CreateTenant(ctx, "Beta", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.node.URL())

	resp, _ := b.get("/endpoints")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fendpoints" {
		t.Fatalf("signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/signin")
	wantStatus(t, resp, body, 200, `<label for="key">API key</label>`, "Sign in")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP = %q", csp)
	}
	resp, body = b.post("/signin", url.Values{"key": {"sk_wrong"}})
	wantStatus(t, resp, body, http.StatusUnauthorized, "not a valid API key")
	resp, body = b.post("/signin", url.Values{"key": {ten.APIKey}, "csrf": {"forged"}})
	wantStatus(t, resp, body, http.StatusForbidden, "expired")

	b.get("/signin")
	resp, body = b.post("/signin", url.Values{"key": {ten.APIKey}, "next": {"/stats"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/stats" {
		t.Fatalf("after sign-in: %s", resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "slotwire_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || strings.Contains(body, ten.APIKey) {
		t.Fatalf("session cookie = %+v", cookie)
	}
	resp, body = b.get("/stats")
	wantStatus(t, resp, body, 200, "Beta", "Deliveries per hour, last 24 hours", "<svg")

	// An endpoint made with the form, with the filter preview first.
	beta := client.New(e.node.URL(), ten.APIKey)
	if _, err := beta.CreateEventType(ctx, client.EventTypeInput{Type: "invoice.paid", Description: "An invoice was paid",
		Example: json.RawMessage(`{"invoice":"inv_1","amount":120}`)}); err != nil {
		t.Fatal(err)
	}
	b.get("/endpoints/new")
	form := url.Values{"type": {"http"}, "url": {"https://example.com/hooks"}, "event_types": {"invoice.paid"},
		"transform": {"{amount: .data.amount}"}, "payload_format": {"nested"}, "signature_profile": {"standard"},
		"auth_type": {"none"}, "headers": {"X-Api-Key: k-123"}}
	preview := url.Values{"action": {"preview"}, "preview_type": {"invoice.paid"}}
	for k, v := range form {
		preview[k] = v
	}
	resp, body = b.post("/endpoints", preview)
	wantStatus(t, resp, body, 200, "The endpoint would receive", "&#34;amount&#34;: 120")
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("url", "ftp://example.com")
	resp, body = b.post("/endpoints", bad)
	wantStatus(t, resp, body, http.StatusBadRequest, `role="alert"`)
	resp, body = b.post("/endpoints", form)
	wantStatus(t, resp, body, http.StatusSeeOther)
	epID := strings.TrimPrefix(strings.Split(resp.Header.Get("Location"), "?")[0], "/endpoints/")
	ep, err := beta.GetEndpoint(ctx, epID)
	if err != nil || ep.URL != "https://example.com/hooks" || ep.Transform != "{amount: .data.amount}" || ep.Headers["X-Api-Key"] == "" {
		t.Fatalf("endpoint made with the form = %+v, %v", ep, err)
	}
	resp, body = b.get("/endpoints")
	wantStatus(t, resp, body, 200, `<a href="/endpoints/`+epID+`">https://example.com/hooks</a>`)
	if strings.Contains(body, "k-123") {
		t.Fatal("a header value is in the page")
	}

	// A form without the session's token changes nothing.
	resp, body = b.post("/endpoints/"+epID+"/disable", url.Values{"csrf": {"forged"}})
	wantStatus(t, resp, body, http.StatusForbidden)
	if ep, _ := beta.GetEndpoint(ctx, epID); !ep.Enabled {
		t.Fatal("a forged form disabled the endpoint")
	}
	b.get("/endpoints/" + epID)
	resp, body = b.post("/endpoints/"+epID+"/disable", url.Values{})
	wantStatus(t, resp, body, http.StatusSeeOther)
	if ep, _ := beta.GetEndpoint(ctx, epID); ep.Enabled {
		t.Fatal("disable did not disable")
	}

	// Another tenant's endpoint is not found, as through the API.
	other := endpoint(t, acme, "https://example.com/acme", "*")
	resp, body = b.get("/endpoints/" + other)
	wantStatus(t, resp, body, http.StatusNotFound, "Not found")
	resp, body = b.post("/endpoints/"+other+"/disable", url.Values{})
	wantStatus(t, resp, body, http.StatusNotFound)

	resp, _ = b.post("/signout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	// The old cookie is worth nothing now.
	replay := newBrowser(t, e.node.URL())
	replay.http.Jar.SetCookies(resp.Request.URL, []*http.Cookie{{Name: "slotwire_session", Value: cookie.Value}})
	if resp, _ := replay.get("/endpoints"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a signed-out session's cookie still opens pages: %d", resp.StatusCode)
	}
}

// TestDashboardDeliveriesAndIsolation: the delivery log, a delivery's raw
// exchange, download and replay; a second tenant's session gets 404 for
// the first tenant's delivery, its download and its replay; revoking the
// key signs its sessions out.
func TestDashboardDeliveriesAndIsolation(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	ctx := context.Background()
	ten, err := e.admin.CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	acme := client.New(e.node.URL(), ten.APIKey)
	rc := receiver.New(nil)
	defer rc.Close()
	epID := endpoint(t, acme, rc.URL+"/hooks", "*")
	evt := publish(t, acme, "invoice.paid", map[string]any{"invoice": "inv_9"}, "")
	if !rc.WaitCount(1, 10*time.Second) {
		t.Fatal("nothing delivered")
	}
	page, err := acme.SearchDeliveries(ctx, client.DeliveryQuery{EventID: evt})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("deliveries = %+v, %v", page, err)
	}
	del := page.Data[0].ID
	waitStatus(t, acme, del, client.StatusSucceeded)

	b := newBrowser(t, e.node.URL())
	b.signIn(ten.APIKey)
	resp, body := b.get("/deliveries?status=succeeded&event_type=invoice.*")
	wantStatus(t, resp, body, 200, `<a href="/deliveries/`+del+`">invoice.paid</a>`, " ms</td>")
	resp, body = b.get("/deliveries/" + del)
	wantStatus(t, resp, body, 200, "Attempt 1", "Webhook-Signature: [masked]", "HTTP 200", "inv_9", ">Download<", ">Replay<")
	resp, body = b.get("/deliveries/" + del + "/download")
	wantStatus(t, resp, body, 200, `"inv_9"`)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+del+`.json"` {
		t.Fatalf("Content-Disposition = %q", cd)
	}
	b.get("/deliveries/" + del)
	resp, body = b.post("/deliveries/"+del+"/replay", url.Values{})
	wantStatus(t, resp, body, http.StatusSeeOther)
	replayID := strings.TrimPrefix(strings.Split(resp.Header.Get("Location"), "?")[0], "/deliveries/")
	resp, body = b.get("/deliveries/" + replayID + "?m=replayed")
	wantStatus(t, resp, body, 200, "Replay queued.", `<span class="tag replay">Replay</span>`, "Replay of", `href="/deliveries/`+del+`"`)
	resp, body = b.get("/endpoints/" + epID)
	wantStatus(t, resp, body, 200, "Send test event", "Deliveries per day, last 7 days")

	// A second tenant sees none of it.
	beta, err := e.admin.CreateTenant(ctx, "Gamma", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	b2 := newBrowser(t, e.node.URL())
	b2.signIn(beta.APIKey)
	for _, path := range []string{"/deliveries/" + del, "/deliveries/" + del + "/download", "/endpoints/" + epID,
		"/deliveries?endpoint_id=" + epID} {
		resp, body := b2.get(path)
		wantStatus(t, resp, body, http.StatusNotFound)
	}
	b2.get("/deliveries")
	resp, body = b2.post("/deliveries/"+del+"/replay", url.Values{})
	wantStatus(t, resp, body, http.StatusNotFound)
	if resp, body := b2.get("/deliveries"); strings.Contains(body, del) || resp.StatusCode != 200 {
		t.Fatal("the second tenant's log shows the first tenant's delivery")
	}

	// Revoking the key the session was opened with ends the session.
	keys, err := acme.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spare, err := acme.CreateKey(ctx, "spare", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := client.New(e.node.URL(), spare.Secret).DeleteKey(ctx, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.get("/endpoints"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session of a revoked key still opens pages: %d", resp.StatusCode)
	}
}

func waitStatus(t *testing.T, c *client.Client, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := c.GetDelivery(context.Background(), id)
		if err == nil && d.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s: %+v, %v; want %s", id, d, err, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPortalSessions: a portal link signs its first visitor in, once,
// with the scopes asked for (at most the key's); bad input answers 400
// and scopes beyond the key's 403.
func TestPortalSessions(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	acme := e.tenant("Acme")
	ctx := context.Background()
	p, err := acme.CreatePortalSession(ctx, client.PortalSessionInput{TTL: "30m"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.URL, e.node.URL()+"/portal/pt_") || time.Until(p.ExpiresAt) > 31*time.Minute || time.Until(p.ExpiresAt) < 29*time.Minute {
		t.Fatalf("portal session = %+v", p)
	}
	path := strings.TrimPrefix(p.URL, e.node.URL())
	b := newBrowser(t, e.node.URL())
	resp, _ := b.get(path)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endpoints" {
		t.Fatalf("open portal link: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/endpoints")
	wantStatus(t, resp, body, 200, "Acme", "New endpoint")
	b2 := newBrowser(t, e.node.URL())
	resp, body = b2.get(path)
	wantStatus(t, resp, body, http.StatusNotFound, "already used or has expired")

	for _, tc := range []struct {
		in     client.PortalSessionInput
		status int
	}{
		{client.PortalSessionInput{TTL: "10s"}, 400},
		{client.PortalSessionInput{TTL: "48h"}, 400},
		{client.PortalSessionInput{Scopes: []string{"nope"}}, 400},
	} {
		_, err := acme.CreatePortalSession(ctx, tc.in)
		apiErr(t, err, tc.status, "")
	}
	// A key without the admin scope can give only what it holds.
	narrow, err := acme.CreateKey(ctx, "narrow", "custom")
	if err != nil {
		t.Fatal(err)
	}
	nc := client.New(e.node.URL(), narrow.Secret)
	_, err = nc.CreatePortalSession(ctx, client.PortalSessionInput{Scopes: []string{"admin"}})
	apiErr(t, err, 403, "missing_scope")
	p, err = nc.CreatePortalSession(ctx, client.PortalSessionInput{Scopes: []string{"custom"}})
	if err != nil || len(p.Scopes) != 1 {
		t.Fatalf("narrow portal session = %+v, %v", p, err)
	}
}

// TestEndpointPreview: POST /v1/endpoints/preview runs filter, transform
// and payload format as a delivery would, on data or a registered type's
// example; jq errors answer 400 naming the expression.
func TestEndpointPreview(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	c := e.tenant("Acme")
	ctx := context.Background()
	data := json.RawMessage(`{"status":"confirmed","start":"2026-12-07T09:00:00Z"}`)
	p, err := c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made", Data: data,
		Filter: `.data.status == "confirmed"`, Transform: "{start: .data.start}"})
	if err != nil || !p.Matched || string(p.Body) != `{"start":"2026-12-07T09:00:00Z"}` {
		t.Fatalf("preview = %+v (%s), %v", p, p.Body, err)
	}
	p, err = c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made", Data: data, Filter: `.data.status == "cancelled"`})
	if err != nil || p.Matched || p.Body != nil {
		t.Fatalf("preview of a filter that does not match = %+v, %v", p, err)
	}
	p, err = c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made", Data: data, PayloadFormat: "flat"})
	if err != nil || !strings.Contains(string(p.Body), `"data.status":"confirmed"`) {
		t.Fatalf("flat preview = %s, %v", p.Body, err)
	}
	_, err = c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made", Data: data, Transform: "{"})
	apiErr(t, err, 400, "invalid_request")
	if !strings.Contains(err.Error(), "transform") {
		t.Fatalf("error = %v", err)
	}
	_, err = c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made"})
	apiErr(t, err, 400, "invalid_request") // no example, no data
	if _, err := c.CreateEventType(ctx, client.EventTypeInput{Type: "booking.made", Example: data}); err != nil {
		t.Fatal(err)
	}
	p, err = c.PreviewEndpoint(ctx, client.PreviewInput{EventType: "booking.made", Transform: ".data.start"})
	if err != nil || string(p.Body) != `"2026-12-07T09:00:00Z"` {
		t.Fatalf("preview on the registered example = %+v, %v", p, err)
	}
}

// TestDashboardOperatorAndRouting: the admin token opens the operator's
// overview (nodes, queue, tenants), which tenant sessions cannot open;
// the API keeps its JSON answers beside the dashboard's pages; static files
// are cached by digest.
func TestDashboardOperatorAndRouting(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	e.tenant("Acme")
	b := newBrowser(t, e.node.URL())
	b.signIn(adminToken)
	resp, _ := b.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/operator" {
		t.Fatalf("operator home: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/operator")
	wantStatus(t, resp, body, 200, "Operator overview", "Pending deliveries", "Acme", `<span class="tag ok">alive</span>`)
	resp, body = b.get("/endpoints")
	wantStatus(t, resp, body, http.StatusNotFound)

	resp, body = b.get("/v1/nope")
	if resp.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
		t.Fatalf("API 404: %d %s", resp.StatusCode, body)
	}
	resp, body = b.get("/nope")
	wantStatus(t, resp, body, 404, "<h1>Not found</h1>")
	asset := regexp.MustCompile(`/static/app\.css\?v=[0-9a-f]+`).FindString(body)
	resp, body = b.get(asset)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "--accent") {
		t.Fatalf("asset %s: %d %s", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestDashboardRecover: the Recover form re-sends the endpoint's failed
// deliveries since the time chosen and its progress page follows them to
// the end; a second recovery finds nothing to do.
func TestDashboardRecover(t *testing.T) {
	t.Parallel()
	e := start(t, fast())
	ctx := context.Background()
	ten, err := e.admin.CreateTenant(ctx, "Acme", "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(e.node.URL(), ten.APIKey)
	var healthy atomic.Bool
	rc := receiver.New(func(_ int, w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	defer rc.Close()
	ep := endpoint(t, c, rc.URL+"/hooks", "*")
	var ids []string
	for i := range 2 {
		evt := publish(t, c, "invoice.paid", map[string]any{"n": i}, "")
		page, err := c.SearchDeliveries(ctx, client.DeliveryQuery{EventID: evt})
		if err != nil || len(page.Data) != 1 {
			t.Fatal(page, err)
		}
		ids = append(ids, page.Data[0].ID)
	}
	for _, id := range ids {
		waitStatus(t, c, id, client.StatusFailed)
	}
	healthy.Store(true)

	b := newBrowser(t, e.node.URL())
	b.signIn(ten.APIKey)
	resp, body := b.get("/endpoints/" + ep)
	wantStatus(t, resp, body, 200, `<label for="since">Failed since (UTC)</label>`, ">Recover<")
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	resp, body = b.post("/endpoints/"+ep+"/recover", url.Values{"since": {since}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	progress := resp.Header.Get("Location")
	if !strings.Contains(progress, "queued=2") {
		t.Fatalf("recovery went to %s", progress)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body = b.get(progress)
		if strings.Contains(body, "2 of 2 replays done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery never finished: %d %s", resp.StatusCode, body)
		}
		if !strings.Contains(body, `http-equiv="refresh"`) {
			t.Fatal("an unfinished recovery's page does not refresh itself")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantStatus(t, resp, body, 200, "2 succeeded, 0 failed", `<progress id="progress" max="2" value="2">`)
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatal("a finished recovery's page still refreshes")
	}
	b.get("/endpoints/" + ep)
	resp, body = b.post("/endpoints/"+ep+"/recover", url.Values{"since": {since}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = b.get(resp.Header.Get("Location"))
	wantStatus(t, resp, body, 200, "Nothing to recover")
}
