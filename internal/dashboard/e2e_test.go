package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/slotwire/slotwire/client"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/server"
)

// The dashboard end to end, in a real headless Chromium (Debian's
// chromium), driven as a user would: by labels, button and link texts.
// SLOTWIRE_REQUIRE_BROWSER=1 fails the test when Chromium is missing (make
// test sets it); SLOTWIRE_SCREENSHOTS=1 writes the screenshots of
// docs/images.

const (
	chromiumPath = "/usr/bin/chromium"
	e2eAdmin     = "e2e-admin-token"
)

// e2e is one run: a node, two tenants, two receivers and a browser.
type e2e struct {
	t           *testing.T
	ctx         context.Context // the test's deadline
	node        *server.Node
	admin       *client.Client
	acme, other tenant
	ok, failing *receiver.Receiver
	browser     context.Context // the browser's first tab
	shots       string          // where screenshots go; "" for none

	mu       sync.Mutex
	problems []string // CSP violations and script errors, from every tab
}

type tenant struct {
	key string
	api *client.Client
}

func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("SLOTWIRE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("SLOTWIRE_REQUIRE_BROWSER=1 and no Chromium: %v (scripts/test-deps.sh installs it)", err)
		}
		t.Skipf("no Chromium at %s", chromiumPath)
	}
	e := startE2E(t)
	archived := e.archivedDelivery()
	e.failingEndpoint()

	u := e.newPage()
	u.open("/signin")
	u.inspect("signin")
	u.signIn(e.acme.key)
	if u.path() != "/endpoints" {
		t.Fatalf("signed in at %s", u.path())
	}
	ep := e.createEndpoint(u)
	dlv := e.deliveryLog(u, ep)
	e.rawExchange(u, dlv)
	e.replay(u, dlv)
	e.archivedPage(u, archived)
	e.otherPages(u)
	e.portal()
	e.signOut(u)
	e.isolation(ep, dlv)
	e.operator()

	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.problems) > 0 {
		t.Fatalf("the pages reported:\n%s", strings.Join(e.problems, "\n"))
	}
}

// startE2E starts a node on a temporary SQLite file, two tenants, the
// receivers and the browser.
func startE2E(t *testing.T) *e2e {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	var cfg server.Config
	cfg.Delivery.Schedule = []time.Duration{0, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	cfg.Delivery.Jitter = -1
	cfg.Delivery.PollInterval = 50 * time.Millisecond
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.AllowPrivateEndpoints = true
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr, cfg.AdminToken, cfg.Migrate = "127.0.0.1:0", e2eAdmin, true
	n, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	e := &e2e{t: t, ctx: ctx, node: n, admin: client.New(n.URL(), e2eAdmin)}
	e.acme, e.other = e.tenant("Acme Dental"), e.tenant("Globex Clinics")
	e.ok = receiver.New(nil)
	e.failing = receiver.New(func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"database unavailable"}`, http.StatusInternalServerError)
	})
	t.Cleanup(e.ok.Close)
	t.Cleanup(e.failing.Close)
	if os.Getenv("SLOTWIRE_SCREENSHOTS") == "1" {
		e.shots = filepath.Join("..", "..", "docs", "images")
		if err := os.MkdirAll(e.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.startBrowser()
	return e
}

func (e *e2e) tenant(name string) tenant {
	ten, err := e.admin.CreateTenant(e.ctx, name, "unlimited")
	if err != nil {
		e.t.Fatal(err)
	}
	return tenant{key: ten.APIKey, api: client.New(e.node.URL(), ten.APIKey)}
}

// startBrowser starts Chromium headless (as root in CI: no sandbox).
func (e *e2e) startBrowser() {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(e.ctx, opts...)
	e.t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(alloc)
	e.t.Cleanup(cancel)
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		e.t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	e.browser = browser
}

// listen records what a page reports that a user should never cause: a
// Content Security Policy violation, a script error.
func (e *e2e) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *log.EventEntryAdded:
		if strings.Contains(ev.Entry.Text, "Content Security Policy") {
			problem = "log: " + ev.Entry.Text
		}
	case *runtime.EventConsoleAPICalled:
		for _, a := range ev.Args {
			if strings.Contains(string(a.Value), "Content Security Policy") || ev.Type == runtime.ConsoleAPICalledTypeError {
				problem = fmt.Sprintf("console.%s: %s", ev.Type, a.Value)
			}
		}
	case *runtime.EventExceptionThrown:
		problem = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			problem += " " + ex.Description
		}
	}
	if problem != "" {
		e.mu.Lock()
		e.problems = append(e.problems, problem)
		e.mu.Unlock()
	}
}

// archivedDelivery makes a delivery, waits until it succeeded, and
// archives it as the retention job does once its retention period ends.
func (e *e2e) archivedDelivery() string {
	types := []string{"report.generated"}
	ep, err := e.acme.api.CreateEndpoint(e.ctx, client.EndpointInput{URL: ptr(e.ok.URL + "/reports"), EventTypes: &types,
		Description: ptr("Monthly reports")})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.acme.api.Publish(e.ctx, "report.generated", map[string]string{"month": "2026-05"}, ""); err != nil {
		e.t.Fatal(err)
	}
	id := e.eventually("the report delivered", func() (string, bool) {
		page, err := e.acme.api.SearchDeliveries(e.ctx, client.DeliveryQuery{EndpointID: ep.ID})
		ok := err == nil && len(page.Data) == 1 && page.Data[0].Status == client.StatusSucceeded
		if !ok {
			return "", false
		}
		return page.Data[0].ID, true
	})
	now := time.Now()
	if _, err := e.node.Store.Archive(e.ctx, now, now, 100); err != nil {
		e.t.Fatal(err)
	}
	if det, err := e.acme.api.GetDelivery(e.ctx, id); err != nil || det.ArchivedAt == nil {
		e.t.Fatalf("archived delivery = %+v, %v", det, err)
	}
	return id
}

// failingEndpoint is an endpoint whose receiver answers 500, so that the
// log and the charts have failures.
func (e *e2e) failingEndpoint() {
	types := []string{"*"}
	if _, err := e.acme.api.CreateEndpoint(e.ctx, client.EndpointInput{URL: ptr(e.failing.URL + "/erp"), EventTypes: &types,
		Description: ptr("ERP sync")}); err != nil {
		e.t.Fatal(err)
	}
}

// eventually polls cond for up to 15 s.
func (e *e2e) eventually(what string, cond func() (string, bool)) string {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if v, ok := cond(); ok {
			return v
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not in 15 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

// page is a browser tab in a browser context of its own: its own cookies,
// as a fresh browser profile would have.
type page struct {
	e   *e2e
	t   *testing.T
	ctx context.Context
}

func (e *e2e) newPage() *page {
	ctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(e.listen))
	e.t.Cleanup(cancel)
	p := &page{e: e, t: e.t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// XPaths of what a user sees: a button, a link, a field by its label.
func button(name string) string { return fmt.Sprintf(`//button[normalize-space()='%s']`, name) }
func link(text string) string   { return fmt.Sprintf(`//a[normalize-space()='%s']`, text) }
func field(label string) string {
	return fmt.Sprintf(`//*[@id=//label[normalize-space()='%s']/@for]`, label)
}

// open loads a path of the node (or a whole URL) and returns the status of
// the page it lands on.
func (p *page) open(path string) int64 {
	p.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = p.e.node.URL() + path
	}
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// click clicks what xpath finds and waits for the page it leads to.
func (p *page) click(xpath string) int64 {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.Search(xpath)))
	if err != nil {
		p.t.Fatalf("click %s on %s: %v", xpath, p.path(), err)
	}
	return resp.Status
}

// fill types into the (empty) field of the label.
func (p *page) fill(label, value string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.Search(field(label)), value)); err != nil {
		p.t.Fatalf("fill %q: %v", label, err)
	}
}

func eval[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// path is the page's path and query.
func (p *page) path() string { return eval[string](p, `location.pathname + location.search`) }
func (p *page) text() string { return eval[string](p, `document.body.innerText`) }
func (p *page) title() string {
	return strings.TrimSuffix(eval[string](p, `document.title`), " · Slotwire")
}

// has says whether xpath finds something on the page.
func (p *page) has(xpath string) bool {
	q, _ := json.Marshal(xpath)
	return eval[bool](p, `document.evaluate(`+string(q)+`, document, null, XPathResult.BOOLEAN_TYPE, null).booleanValue`)
}

// see fails unless the page shows each text.
func (p *page) see(texts ...string) {
	p.t.Helper()
	body := p.text()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			p.t.Fatalf("%s does not show %q; it shows:\n%s", p.path(), s, body)
		}
	}
}

// reloadUntil reloads the page until xpath finds something (the server's
// work goes on in the background), for up to 15 s.
func (p *page) reloadUntil(xpath string) {
	p.t.Helper()
	path := p.path()
	p.e.eventually(path+" showing "+xpath, func() (string, bool) {
		if p.has(xpath) {
			return "", true
		}
		p.open(path)
		return "", p.has(xpath)
	})
}

func (p *page) signIn(key string) {
	p.t.Helper()
	if p.path() != "/signin" {
		p.open("/signin")
	}
	p.fill("API key", key)
	if status := p.click(button("Sign in")); status != http.StatusOK {
		p.t.Fatalf("signing in: HTTP %d at %s", status, p.path())
	}
}

// createEndpoint: New endpoint, its URL, Create endpoint; then Send test
// event on its page, which shows the receiver's answer.
func (e *e2e) createEndpoint(u *page) string {
	u.click(link("New endpoint"))
	u.inspect("endpoint-form")
	u.fill("URL", e.ok.URL+"/hooks")
	u.fill("Description", "Booking sync")
	if status := u.click(button("Create endpoint")); status != http.StatusOK {
		e.t.Fatalf("create endpoint: HTTP %d: %s", status, u.text())
	}
	u.see("Endpoint saved.", e.ok.URL+"/hooks", "Enabled")
	id := strings.TrimPrefix(strings.SplitN(u.path(), "?", 2)[0], "/endpoints/")
	if !strings.HasPrefix(id, "ep_") {
		e.t.Fatalf("endpoint page at %s", u.path())
	}
	u.click(button("Send test event"))
	u.see("Test event", "Delivered", "HTTP 200")
	if !u.has(`//section[h2='Test event']//span[contains(@class,'tag') and normalize-space()='200']`) {
		e.t.Fatalf("the test's answer shows no HTTP 200 tag: %s", u.text())
	}
	return id
}

// deliveryLog publishes events through the API and sees them arrive in the
// endpoint's log; it returns the delivery of appointment.created.
func (e *e2e) deliveryLog(u *page, ep string) string {
	for _, ev := range []struct {
		typ  string
		data any
	}{
		{"appointment.created", map[string]any{"appointment_id": "apt_1042", "start": "2026-06-01T09:30:00Z", "patient": "Ada"}},
		{"appointment.rescheduled", map[string]any{"appointment_id": "apt_1042", "start": "2026-06-02T10:00:00Z"}},
		{"invoice.paid", map[string]any{"invoice_id": "inv_77", "amount": 12000, "currency": "EUR"}},
	} {
		if _, err := e.acme.api.Publish(e.ctx, ev.typ, ev.data, ""); err != nil {
			e.t.Fatal(err)
		}
	}
	u.click(link("All deliveries of this endpoint"))
	if u.title() != "Deliveries" || !strings.Contains(u.path(), "endpoint_id="+ep) {
		e.t.Fatalf("deliveries page: %s at %s", u.title(), u.path())
	}
	u.reloadUntil(`//tr[td[@data-label='Event type']/a[.='appointment.created']]/td[@data-label='Status']/span[.='succeeded']`)
	u.reloadUntil(`count(//td[@data-label='Status']/span[.='succeeded']) >= 3`)
	u.inspect("endpoint-log")
	u.click(link("appointment.created"))
	if !strings.HasPrefix(u.title(), "Delivery dlv_") {
		e.t.Fatalf("delivery page titled %q", u.title())
	}
	return strings.TrimPrefix(u.path(), "/deliveries/")
}

// rawExchange: the delivery's attempt shows the request as sent (with its
// signature header, masked) and the receiver's answer.
func (e *e2e) rawExchange(u *page, dlv string) {
	u.reloadUntil(`//details[contains(@class,'attempt')]/summary[contains(., 'HTTP 200')]`)
	u.see("appointment.created", "Request body", "apt_1042", "Attempt 1", "POST "+e.ok.URL+"/hooks",
		"Webhook-Signature: ", "Webhook-Id: ", "HTTP 200")
	for _, h := range []string{"Request", "Response"} {
		if !u.has(fmt.Sprintf(`//details[contains(@class,'attempt')]/h3[.='%s']/following-sibling::pre[1]`, h)) {
			e.t.Fatalf("the attempt has no raw %s", h)
		}
	}
	body := u.text()
	for _, r := range e.ok.Requests() {
		if sig := r.Header.Get("webhook-signature"); sig != "" && strings.Contains(body, sig) {
			e.t.Fatalf("%s shows a signature the receiver got: %s", u.path(), sig)
		}
	}
	if u.path() != "/deliveries/"+dlv {
		e.t.Fatalf("the raw exchange is at %s", u.path())
	}
	u.inspect("delivery")
}

// replay: Replay on the delivery's page opens the replay, labelled so.
func (e *e2e) replay(u *page, dlv string) {
	if status := u.click(button("Replay")); status != http.StatusOK {
		e.t.Fatalf("replay: HTTP %d", status)
	}
	if u.path() == "/deliveries/"+dlv+"?m=replayed" || !strings.HasSuffix(u.path(), "?m=replayed") {
		e.t.Fatalf("replay landed on %s", u.path())
	}
	u.see("Replay queued.", "Replay of", dlv)
	if !u.has(`//span[contains(@class,'replay') and .='Replay']`) || !u.has(link(dlv)) {
		e.t.Fatalf("the replay is not labelled: %s", u.text())
	}
	u.reloadUntil(`//dd/span[contains(@class,'tag') and .='succeeded']`)
	u.click(link(dlv))
	u.see("Replayed as:")
}

// archivedPage: an archived delivery says when it was archived, and its
// Download and Replay buttons are disabled.
func (e *e2e) archivedPage(u *page, id string) {
	if status := u.open("/deliveries/" + id); status != http.StatusOK {
		e.t.Fatalf("archived delivery: HTTP %d", status)
	}
	u.see("Archived on", "report.generated")
	for _, name := range []string{"Download", "Replay"} {
		if !u.has(button(name) + `[@disabled]`) {
			e.t.Fatalf("the archived delivery's %s button is not disabled", name)
		}
		if eval[bool](u, fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.disabled`, button(name))) != true {
			e.t.Fatalf("%s is not disabled", name)
		}
	}
	if u.has(`//h2[.='Request body']`) {
		e.t.Fatal("an archived delivery shows a body")
	}
}

// otherPages: the endpoint list, the tenant's whole log with the failures,
// statistics and the catalog render and fit a phone.
func (e *e2e) otherPages(u *page) {
	u.click(link("Endpoints"))
	u.see(e.ok.URL+"/hooks", e.failing.URL+"/erp", "Booking sync")
	u.inspect("endpoints")
	u.click(link(e.ok.URL + "/hooks"))
	u.see("Statistics", "Last 24 hours", "Last 7 days", "Recent deliveries")
	if !u.has(`//*[local-name()='svg' and contains(@class,'chart') and @role='img']`) {
		e.t.Fatal("the endpoint page has no chart")
	}
	u.inspect("endpoint")
	u.open("/deliveries?status=failed")
	u.reloadUntil(`//td[@data-label='Status']/span[.='failed']`)
	u.click(link("Deliveries"))
	u.see("appointment.created", "failed", "succeeded")
	u.inspect("deliveries")
	u.click(link("Statistics"))
	u.inspect("stats")
	u.click(link("Event catalog"))
	u.inspect("catalog")
}

// portal: a portal link opened in a fresh browser signs it in, once.
func (e *e2e) portal() {
	ps, err := e.acme.api.CreatePortalSession(e.ctx, client.PortalSessionInput{TTL: "10m"})
	if err != nil {
		e.t.Fatal(err)
	}
	first := e.newPage()
	if status := first.open(ps.URL); status != http.StatusOK || first.path() != "/endpoints" {
		e.t.Fatalf("portal link: HTTP %d at %s", status, first.path())
	}
	first.see("Acme Dental", "Booking sync")
	again := e.newPage()
	if status := again.open(ps.URL); status != http.StatusNotFound || again.title() != "Link expired" {
		e.t.Fatalf("portal link opened twice: HTTP %d, %q", status, again.title())
	}
	again.see("already used")
}

// signOut: Sign out leads to the sign-in page, and the pages ask to sign
// in again.
func (e *e2e) signOut(u *page) {
	u.click(button("Sign out"))
	if u.path() != "/signin" || u.title() != "Sign in" {
		e.t.Fatalf("signed out at %s", u.path())
	}
	if status := u.open("/endpoints"); status != http.StatusOK || u.path() != "/signin?next=%2Fendpoints" || !u.has(field("API key")) {
		e.t.Fatalf("after signing out /endpoints: HTTP %d at %s", status, u.path())
	}
}

// isolation: another tenant signed in gets 404 for the first one's ids,
// in the browser and to a plain HTTP client with its cookie.
func (e *e2e) isolation(ep, dlv string) {
	o := e.newPage()
	o.signIn(e.other.key)
	o.see("Globex Clinics", "No endpoints yet")
	paths := []string{"/endpoints/" + ep, "/endpoints/" + ep + "/edit", "/deliveries/" + dlv, "/deliveries?endpoint_id=" + ep}
	for _, path := range paths {
		if status := o.open(path); status != http.StatusNotFound || o.title() != "Not found" {
			e.t.Fatalf("another tenant's %s: HTTP %d %q", path, status, o.title())
		}
	}
	cookies, err := chromedp.Call(o.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.node.URL()}})
	if err != nil {
		e.t.Fatal(err)
	}
	jar := http.Header{}
	for _, c := range cookies.Cookies {
		if !c.HTTPOnly && c.Name == "slotwire_session" {
			e.t.Fatal("the session cookie is readable by scripts")
		}
		jar.Add("Cookie", c.Name+"="+c.Value)
	}
	// Not following redirects: signed out, /endpoints would answer 303.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/endpoints": 200, "/endpoints/" + ep: 404, "/deliveries/" + dlv: 404,
		"/deliveries/" + dlv + "/download": 404} {
		req, _ := http.NewRequestWithContext(e.ctx, http.MethodGet, e.node.URL()+path, nil)
		req.Header = jar.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			e.t.Fatalf("GET %s with the other tenant's cookie: HTTP %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// operator: the admin token opens the operator's overview.
func (e *e2e) operator() {
	op := e.newPage()
	op.open("/signin")
	op.signIn(e2eAdmin)
	if op.path() != "/operator" {
		e.t.Fatalf("operator signed in at %s", op.path())
	}
	op.see("Queue", "Nodes", "Tenants", "Acme Dental", "Globex Clinics")
	op.inspect("operator")
}

// a11yJS lists the form fields without a label and the buttons without a
// name.
const a11yJS = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
      bad.push('unlabelled: ' + el.outerHTML.slice(0, 120));
    }
  }
  for (const b of document.querySelectorAll('button, a.button, [role=button], input[type=submit]')) {
    if (!(b.getAttribute('aria-label') || b.textContent || b.value || '').trim()) {
      bad.push('nameless: ' + b.outerHTML.slice(0, 120));
    }
  }
  return bad;
})()`

// overflowJS lists what sticks out of the viewport when the page scrolls
// sideways.
const overflowJS = `(() => {
  const d = document.documentElement;
  if (d.scrollWidth <= d.clientWidth) return [];
  const out = ['scrollWidth ' + d.scrollWidth + ' > clientWidth ' + d.clientWidth];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    const spills = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible';
    if (r.right > d.clientWidth + 1 || spills) out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' right=' + Math.round(r.right));
    if (out.length > 12) break;
  }
  return out;
})()`

// chartJS lists the chart labels drawn outside their chart.
const chartJS = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const w = svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < 0 || b.x + b.width > w) out.push(t.textContent + ' x=' + Math.round(b.x) + ' width=' + Math.round(b.width));
    }
  }
  return out;
})()`

// inspect checks the page as it is: labels and names, chart labels inside
// their charts, no sideways scrolling at 375 px; and takes its screenshots at 1280 and 375 px when
// asked.
func (p *page) inspect(name string) {
	p.t.Helper()
	if bad := eval[[]string](p, a11yJS); len(bad) > 0 {
		p.t.Errorf("%s (%s):\n%s", name, p.path(), strings.Join(bad, "\n"))
	}
	if bad := eval[[]string](p, chartJS); len(bad) > 0 {
		p.t.Errorf("%s (%s): chart labels cut off:\n%s", name, p.path(), strings.Join(bad, "\n"))
	}
	p.shoot(name+"-desktop", chromedp.FullScreenshot(100))
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		p.t.Fatal(err)
	}
	if bad := eval[[]string](p, overflowJS); len(bad) > 0 {
		p.t.Errorf("%s (%s) scrolls sideways at 375 px:\n%s", name, p.path(), strings.Join(bad, "\n"))
	}
	p.shoot(name+"-phone", chromedp.CaptureScreenshot())
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		p.t.Fatal(err)
	}
}

// screenshots are the pages shown in docs/images, at both widths.
var screenshots = map[string]bool{"signin": true, "endpoints": true, "endpoint": true, "deliveries": true,
	"delivery": true, "operator": true}

// shoot writes docs/images/dashboard-PAGE-WIDTH.png when screenshots are
// asked.
func (p *page) shoot(name string, capture chromedp.Action[[]byte]) {
	p.t.Helper()
	if p.e.shots == "" || !screenshots[name[:strings.LastIndex(name, "-")]] {
		return
	}
	png, err := chromedp.Run(p.ctx, capture)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.e.shots, "dashboard-"+name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}
