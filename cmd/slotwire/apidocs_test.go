package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/server"
)

// The examples of docs/api.md are a test: TestAPIDocExamples sends every
// request the page shows, in the order of the page, to a live node (SQLite
// in a temporary directory, with the binary's extensions) and checks the
// answer the page shows after it. They form one story: an admin creates a
// tenant, the tenant creates endpoints, publishes, reads deliveries, books
// appointments …, each example using what the earlier ones returned.
//
// The format, for a person reading the page first:
//
//   - An example is a fenced block tagged http holding the request, followed
//     by a fenced block tagged http holding the answer. The request is
//     "METHOD /path?query", header lines, an empty line and the body (as
//     sent, after the substitutions below). The answer is the status line
//     ("HTTP/1.1 201 Created"), header lines the answer must carry, an empty
//     line and a JSON body (none for an answer without a body).
//   - {name} in a request is a variable: the value an earlier answer
//     captured (below), or admin_token, the server's admin token. A {name}
//     in the request line or a header that is no variable fails the test; in
//     a body it is left as it is ({{customer_name}} in a template).
//   - https://example.com in a request stands for the test's receiver on
//     loopback (the node runs with --allow-private-endpoints); the
//     receiver's address in an answer is read as https://example.com.
//
// Placeholders in the documented answer (everything else must be equal):
//
//   - "…" is any value, which must be present;
//   - a string ending in … ("evt_…", "sk_…") is any string starting with
//     what comes before the …;
//   - "{name}" captures the value as the variable name, or, when name is
//     already a variable, must equal it;
//   - an object lists the members that must be present: the real answer
//     may have more;
//   - an array has as many elements as the real one, compared in order,
//     unless its last element is "…", which stands for any further ones.
//
// A GET whose answer does not match yet is sent again for up to 10 s: the
// page shows deliveries succeeded and notifications sent, which happen
// shortly after the request that caused them. Every route the node
// registers must have at least one example.

// apiDocsFile is the page whose examples run.
var apiDocsFile = filepath.Join("..", "..", "docs", "api.md")

// apiExample is one request of docs/api.md and the answer it documents.
type apiExample struct {
	line           int // of the request block in docs/api.md
	method, target string
	header         [][2]string
	body           string
	status         int
	answerHeader   [][2]string
	answer         string // JSON, or empty
}

func (e *apiExample) String() string {
	return fmt.Sprintf("docs/api.md:%d: %s %s", e.line, e.method, e.target)
}

// fencedBlock is one fenced code block: its language, first line and text.
type fencedBlock struct {
	lang string
	line int
	text string
}

// fencedBlocks returns the fenced code blocks of a Markdown text.
func fencedBlocks(doc string) []fencedBlock {
	var out []fencedBlock
	var cur *fencedBlock
	for i, line := range strings.Split(doc, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fencedBlock{lang: strings.TrimPrefix(line, "```"), line: i + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

// parseAPIExamples returns the examples of doc, in order.
func parseAPIExamples(doc string) ([]*apiExample, error) {
	blocks := fencedBlocks(doc)
	var out []*apiExample
	for i := 0; i < len(blocks); i++ {
		b := blocks[i]
		if b.lang != "http" {
			continue
		}
		if strings.HasPrefix(b.text, "HTTP/") {
			return nil, fmt.Errorf("docs/api.md:%d: an answer without a request before it", b.line)
		}
		if i+1 >= len(blocks) || blocks[i+1].lang != "http" || !strings.HasPrefix(blocks[i+1].text, "HTTP/") {
			return nil, fmt.Errorf("docs/api.md:%d: a request must be followed by its answer, a block http starting HTTP/1.1", b.line)
		}
		ex, err := parseExample(b, blocks[i+1])
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
		i++
	}
	return out, nil
}

// splitMessage splits an HTTP message into its first line, header lines
// and body.
func splitMessage(text string) (first string, header [][2]string, body string, err error) {
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return "", nil, "", fmt.Errorf("header line %q has no colon", l)
		}
		header = append(header, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return lines[0], header, strings.TrimSpace(body), nil
}

func parseExample(req, ans fencedBlock) (*apiExample, error) {
	first, header, body, err := splitMessage(req.text)
	if err != nil {
		return nil, fmt.Errorf("docs/api.md:%d: %v", req.line, err)
	}
	ex := &apiExample{line: req.line, header: header, body: body}
	parts := strings.Fields(first)
	if len(parts) < 2 || len(parts) > 3 || strings.ToUpper(parts[0]) != parts[0] || !strings.HasPrefix(parts[1], "/") {
		return nil, fmt.Errorf("docs/api.md:%d: want a request line \"METHOD /path\", got %q", req.line, first)
	}
	ex.method, ex.target = parts[0], parts[1]
	status, aheader, abody, err := splitMessage(ans.text)
	if err != nil {
		return nil, fmt.Errorf("docs/api.md:%d: %v", ans.line, err)
	}
	parts = strings.SplitN(status, " ", 3)
	code, err := strconv.Atoi(parts[min(1, len(parts)-1)])
	if err != nil || len(parts) != 3 || parts[2] != http.StatusText(code) {
		return nil, fmt.Errorf("docs/api.md:%d: want a status line such as \"HTTP/1.1 200 OK\", got %q", ans.line, status)
	}
	ex.status, ex.answerHeader, ex.answer = code, aheader, abody
	if abody != "" && !json.Valid([]byte(abody)) {
		return nil, fmt.Errorf("docs/api.md:%d: the answer's body is not JSON", ans.line)
	}
	return ex, nil
}

// docHost is the receiver's address as the examples write it.
const docHost = "https://example.com"

var docVariable = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// apiDocRun is one walk through the examples.
type apiDocRun struct {
	base     string // the node
	receiver string // the receiver, http://127.0.0.1:port
	vars     map[string]string
	client   *http.Client
}

// substitute replaces the variables of s; strict: an unknown one is an
// error.
func (r *apiDocRun) substitute(s string, strict bool) (string, error) {
	var err error
	out := docVariable.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := r.vars[name]; ok {
			return v
		}
		if strict && err == nil {
			err = fmt.Errorf("%s is no variable (no earlier answer captured it)", m)
		}
		return m
	})
	return out, err
}

// request builds the example's request.
func (r *apiDocRun) request(ex *apiExample) (*http.Request, error) {
	target, err := r.substitute(ex.target, true)
	if err != nil {
		return nil, err
	}
	body, _ := r.substitute(ex.body, false)
	body = strings.ReplaceAll(body, docHost, r.receiver)
	req, err := http.NewRequest(ex.method, r.base+target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range ex.header {
		v, err := r.substitute(h[1], true)
		if err != nil {
			return nil, err
		}
		req.Header.Set(h[0], v)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// send sends the example once and checks the answer; it returns the
// variables the answer captured.
func (r *apiDocRun) send(ex *apiExample) (map[string]string, error) {
	req, err := r.request(ex)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	raw = bytes.ReplaceAll(raw, []byte(r.receiver), []byte(docHost))
	if resp.StatusCode != ex.status {
		return nil, fmt.Errorf("status %d, documented %d; the answer:\n%s", resp.StatusCode, ex.status, clip(raw))
	}
	for _, h := range ex.answerHeader {
		want, _ := r.substitute(h[1], false)
		if got := resp.Header.Get(h[0]); !matchString(want, got) {
			return nil, fmt.Errorf("header %s: %q, documented %q", h[0], got, want)
		}
	}
	captured := map[string]string{}
	if ex.answer == "" {
		return captured, nil
	}
	doc, real := decodeJSON([]byte(ex.answer)), decodeJSON(raw)
	if real == nil && len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		return nil, fmt.Errorf("the answer is not JSON:\n%s", raw)
	}
	m := docMatcher{vars: r.vars, captured: captured}
	if err := m.match("$", doc, real); err != nil {
		return nil, fmt.Errorf("%v; the answer:\n%s", err, clip(raw))
	}
	return captured, nil
}

// clip shortens an answer for a message.
func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + " …"
	}
	return string(b)
}

func decodeJSON(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// matchString reports whether got is what the documented want allows:
// equal, or for "prefix…" any string with that prefix.
func matchString(want, got string) bool {
	if p, ok := strings.CutSuffix(want, "…"); ok {
		return strings.HasPrefix(got, p)
	}
	return want == got
}

// docMatcher compares a documented JSON value with a real one.
type docMatcher struct {
	vars, captured map[string]string
}

func (m docMatcher) match(path string, doc, real any) error {
	if s, ok := doc.(string); ok {
		return m.matchPlaceholder(path, s, real)
	}
	switch d := doc.(type) {
	case map[string]any:
		r, ok := real.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: an object is documented, the answer has %s", path, show(real))
		}
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rv, ok := r[k]
			if !ok {
				return fmt.Errorf("%s: the answer has no member %q", path, k)
			}
			if err := m.match(path+"."+k, d[k], rv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		return m.matchArray(path, d, real)
	}
	if show(doc) != show(real) {
		return fmt.Errorf("%s: %s, documented %s", path, show(real), show(doc))
	}
	return nil
}

func (m docMatcher) matchArray(path string, d []any, real any) error {
	r, ok := real.([]any)
	if !ok {
		return fmt.Errorf("%s: an array is documented, the answer has %s", path, show(real))
	}
	more := len(d) > 0 && d[len(d)-1] == "…"
	if more {
		d = d[:len(d)-1]
	}
	if len(r) < len(d) || (!more && len(r) != len(d)) {
		return fmt.Errorf("%s: %d elements, documented %d", path, len(r), len(d))
	}
	for i := range d {
		if err := m.match(fmt.Sprintf("%s[%d]", path, i), d[i], r[i]); err != nil {
			return err
		}
	}
	return nil
}

// matchPlaceholder compares a documented string, which may be a
// placeholder, with a real value.
func (m docMatcher) matchPlaceholder(path, s string, real any) error {
	if name, ok := strings.CutPrefix(s, "{"); ok && strings.HasSuffix(name, "}") && docVariable.MatchString(s) {
		name = strings.TrimSuffix(name, "}")
		got, isString := real.(string)
		if !isString {
			got = show(real)
		}
		if want, known := m.vars[name]; known {
			if got != want {
				return fmt.Errorf("%s: %s, documented {%s} = %q", path, show(real), name, want)
			}
			return nil
		}
		m.captured[name] = got
		return nil
	}
	if s == "…" {
		return nil
	}
	if got, ok := real.(string); ok && matchString(s, got) {
		return nil
	}
	return fmt.Errorf("%s: %s, documented %q", path, show(real), s)
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// apiDocsReceiver answers what the examples' endpoints are sent: 503 under
// /down, the challenge of a verification, a sync hook's "send", 200 "ok"
// otherwise.
func apiDocsReceiver() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Challenge string `json:"challenge"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		switch {
		case strings.HasPrefix(r.URL.Path, "/down"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case ev.Type == "webhook.verification":
			_, _ = io.WriteString(w, ev.Data.Challenge)
		case strings.HasSuffix(ev.Type, ".before_send"):
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"action":"send"}`)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
}

// startAPIDocsNode starts the node the examples run against and returns
// its URL and the patterns of its routes.
func startAPIDocsNode(t *testing.T) (string, []string) {
	t.Helper()
	var cfg server.Config
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = cliAdminToken
	cfg.Migrate = true
	cfg.AllowPrivateEndpoints = true
	cfg.Delivery.Schedule = []time.Duration{0, 50 * time.Millisecond, 50 * time.Millisecond}
	cfg.Delivery.Jitter = -1
	cfg.Delivery.PollInterval = 50 * time.Millisecond
	cfg.Delivery.Timeout = 2 * time.Second
	cfg.Extensions, cfg.Modules = extensions(), modules()
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n.URL(), n.API.Routes()
}

// TestAPIDocExamples runs the examples of docs/api.md against a live node
// (see the top of this file) and checks that every route has one.
func TestAPIDocExamples(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(apiDocsFile)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := parseAPIExamples(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	base, routes := startAPIDocsNode(t)
	checkRouteParity(t, routes, examples)
	rc := apiDocsReceiver()
	defer rc.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	run := &apiDocRun{base: base, receiver: rc.URL, vars: map[string]string{"admin_token": cliAdminToken},
		client: &http.Client{Transport: transport, Timeout: 20 * time.Second}}
	for _, ex := range examples {
		if !run.step(t, ex) {
			return // later examples build on this one
		}
	}
}

// step runs one example, again for up to 10 s when a GET does not match.
func (r *apiDocRun) step(t *testing.T, ex *apiExample) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		captured, err := r.send(ex)
		if err == nil {
			for k, v := range captured {
				r.vars[k] = v
			}
			return true
		}
		if ex.method != http.MethodGet || time.Now().After(deadline) {
			t.Errorf("%s: %v", ex, err)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkRouteParity fails for every route of the node no example requests.
func checkRouteParity(t *testing.T, routes []string, examples []*apiExample) {
	t.Helper()
	mux := http.NewServeMux()
	for _, p := range routes {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	covered := map[string]bool{}
	for _, ex := range examples {
		target := docVariable.ReplaceAllString(ex.target, "x")
		req, err := http.NewRequest(ex.method, "http://node"+target, nil)
		if err != nil {
			t.Errorf("%s: %v", ex, err)
			continue
		}
		if _, pattern := mux.Handler(req); pattern != "" {
			covered[pattern] = true
		} else {
			t.Errorf("%s: no route of the node takes this request", ex)
		}
	}
	for _, p := range routes {
		if !covered[p] {
			t.Errorf("docs/api.md has no example of %s", p)
		}
	}
	t.Logf("%d examples, %d routes", len(examples), len(routes))
}

// TestAPIDocMatcher: the placeholders of the examples' answers.
func TestAPIDocMatcher(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"endpoint_id": "ep_1"}
	real := `{"id":"evt_9","endpoint_id":"ep_1","n":3,"at":"2026-12-05T10:00:00Z","list":[1,2,3],"o":{"a":1,"b":2}}`
	for doc, ok := range map[string]bool{
		`{"id":"evt_…","endpoint_id":"{endpoint_id}","n":3,"at":"…","list":[1,"…"],"o":{"a":1}}`: true,
		`{"id":"{event_id}","list":[1,2,3]}`: true,
		`{"id":"dlv_…"}`:                     false,
		`{"endpoint_id":"{other}","n":4}`:    false,
		`{"endpoint_id":"ep_2"}`:             false,
		`{"list":[1,2]}`:                     false,
		`{"list":[1,2,3,"…"]}`:               true,
		`{"missing":"…"}`:                    false,
		`{"o":{"a":"1"}}`:                    false,
	} {
		m := docMatcher{vars: vars, captured: map[string]string{}}
		err := m.match("$", decodeJSON([]byte(doc)), decodeJSON([]byte(real)))
		if (err == nil) != ok {
			t.Errorf("%s: %v, want a match: %v", doc, err, ok)
		}
		if ok && strings.Contains(doc, "{event_id}") && m.captured["event_id"] != "evt_9" {
			t.Errorf("%s captured %v", doc, m.captured)
		}
	}
	if _, err := parseAPIExamples("```http\nGET /v1/x\n```\n\ntext\n\n```json\n{}\n```\n"); err == nil {
		t.Error("a request without its answer was accepted")
	}
	if _, err := parseAPIExamples("```http\nGET /v1/x\n```\n\n```http\nHTTP/1.1 200 Okay\n```\n"); err == nil {
		t.Error("a wrong reason phrase was accepted")
	}
}
