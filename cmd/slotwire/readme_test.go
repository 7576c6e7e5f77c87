//go:build unix

package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/signature"
)

// The README's "Your first webhook in five minutes" is a test: its shell
// blocks run in order, as a user would type them, against the binary they
// build, and every answer must match the JSON the README shows after it.
// Only what cannot be the same on a test machine is rewritten: the port
// (localhost:8080), the receiver URL (a loopback receiver instead of
// erp.example.com, so the server runs with --allow-private-endpoints) and
// the ids and keys the README shows, which are replaced by the ones the
// server handed out earlier in the walk.

const readmeSection = "## Your first webhook in five minutes"

// mdBlock is one fenced code block and the prose before it.
type mdBlock struct {
	lang, text, prose string
}

// readmeBlocks returns the code blocks of the README's five-minute section.
func readmeBlocks(t *testing.T) []mdBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "\n"+readmeSection+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", readmeSection)
	}
	s = s[i+len(readmeSection)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	var blocks []mdBlock
	var cur *mdBlock
	var prose strings.Builder
	for _, line := range strings.Split(s, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &mdBlock{lang: strings.TrimPrefix(line, "```"), prose: prose.String()}
			prose.Reset()
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		default:
			prose.WriteString(line + "\n")
		}
	}
	if len(blocks) < 2 || blocks[0].lang != "sh" || !strings.Contains(blocks[0].text, "slotwire serve") {
		t.Fatalf("the five-minute section must start with a sh block that runs `slotwire serve`; found %d blocks", len(blocks))
	}
	return blocks
}

// readmeWalk is the state of one walk through the README.
type readmeWalk struct {
	t    *testing.T
	addr string
	env  []string
	// subs rewrites README text: fixed rewrites, then each id, key or
	// secret the README shows, mapped to the one this server handed out.
	subs  [][2]string
	real  map[string]string // README value -> value from the server
	given map[string]bool   // values from the server
	// byKey: the last value from the server of an id field ("api_key",
	// "secret") and of an id with a prefix ("ep_", "evt_").
	byKey map[string]string
	// exports are the export lines of the blocks run so far.
	exports string
}

func (w *readmeWalk) rewrite(s string) string {
	for _, p := range w.subs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

// startReadmeServer runs the README's first block, which builds and starts
// the server, in the repository root with GOBIN in a temporary directory.
func startReadmeServer(t *testing.T, block string) (addr string, env []string) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	env = append(os.Environ(), "no_proxy=*", "NO_PROXY=*", "http_proxy=", "HTTP_PROXY=")
	serverEnv := append(env, "GOBIN="+dir, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SLOTWIRE_ADDR="+addr, "SLOTWIRE_DB="+filepath.Join(dir, "slotwire.db"), "SLOTWIRE_ALLOW_PRIVATE_ENDPOINTS=true")
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command("sh", "-c", block)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = serverEnv
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { stopGroup(cmd.Process.Pid, exited) })
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Minute) // the block compiles the binary first
	for {
		if resp, err := hc.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, env
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("the README's first block exited:\n%s\n%s", block, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("the server of the README's first block did not answer /healthz:\n%s", log)
		}
	}
}

// stopGroup stops sh and the server it started: SIGTERM, then SIGKILL.
func stopGroup(pid int, exited <-chan struct{}) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the server, if sh did not exec it
}

// curlAnswer is one answer printed by a curl of the README.
type curlAnswer struct {
	status int
	body   string
}

// run runs a README shell block in a shell that has the variables earlier
// blocks exported, as the user's terminal would. Each curl also prints the
// status code on a line of its own after the body, so the answers can be
// checked.
func (w *readmeWalk) run(block string) []curlAnswer {
	w.t.Helper()
	script := strings.ReplaceAll(w.rewrite(block), "curl ", `curl -sS -w '\n%{http_code}\n' `)
	var exports string
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "export ") {
			exports += line + "\n"
		}
	}
	script = w.exports + script
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = w.env
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("README block failed: %v\n%s\n%s", err, script, out)
	}
	var answers []curlAnswer
	var body []string
	for _, line := range strings.Split(string(out), "\n") {
		if code, err := strconv.Atoi(line); err == nil && len(line) == 3 {
			answers = append(answers, curlAnswer{status: code, body: strings.Join(body, "\n")})
			body = nil
		} else if line != "" {
			body = append(body, line)
		}
	}
	if len(answers) == 0 {
		w.t.Fatalf("README block printed no answer:\n%s\n%s", script, out)
	}
	w.exports += exports
	return answers
}

var (
	promisedStatus = regexp.MustCompile("The answer is `(\\d{3}) ")
	readmeID       = regexp.MustCompile(`\b(dlv)_[0-9A-Z]{26}\b`)
)

// TestReadmeFiveMinutes walks the README's five-minute path against the real
// binary and a loopback receiver.
func TestReadmeFiveMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, tool := range []string{"curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SLOTWIRE_REQUIRE_NPM") == "1" {
				t.Fatalf("%s is needed to run the README's commands: %v", tool, err)
			}
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	blocks := readmeBlocks(t)
	addr, env := startReadmeServer(t, blocks[0].text)
	rc := receiver.New(func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	defer rc.Close()
	w := &readmeWalk{t: t, addr: addr, env: env, real: map[string]string{}, given: map[string]bool{}, byKey: map[string]string{},
		subs: [][2]string{{"localhost:8080", addr}, {"https://erp.example.com/hooks", rc.URL + "/hooks"}}}
	var publish string
	for i := 1; i < len(blocks); i++ {
		b := blocks[i]
		if b.lang != "sh" {
			continue
		}
		w.resolveDeliveries(b.text, rc)
		answers := w.run(b.text)
		w.checkStatus(b, answers)
		if i+1 < len(blocks) && blocks[i+1].lang == "json" {
			w.compareJSON(blocks[i+1].text, answers[len(answers)-1].body)
		}
		if strings.Contains(b.text, "/v1/events") {
			publish = b.text
		}
	}
	if publish == "" {
		t.Fatal("the five-minute section publishes no event")
	}
	w.checkDuplicate(publish)
	w.checkWebhook(rc, publish)
}

// checkStatus: the status the prose before the block promises ("The answer
// is `201 Created`"), or a 2xx when it promises none.
func (w *readmeWalk) checkStatus(b mdBlock, answers []curlAnswer) {
	w.t.Helper()
	for _, a := range answers {
		if a.status/100 != 2 {
			w.t.Fatalf("README block\n%s answered %d: %s", b.text, a.status, a.body)
		}
	}
	if all := promisedStatus.FindAllStringSubmatch(b.prose, -1); all != nil {
		m := all[len(all)-1]
		if got := strconv.Itoa(answers[len(answers)-1].status); got != m[1] {
			w.t.Fatalf("README promises %s for\n%s got %s: %s", m[1], b.text, got, answers[len(answers)-1].body)
		}
	}
}

// resolveDeliveries maps the delivery ids a block names to the delivery of
// the published event, once it has succeeded, as the README shows it.
func (w *readmeWalk) resolveDeliveries(block string, rc *receiver.Receiver) {
	w.t.Helper()
	for _, id := range readmeID.FindAllString(block, -1) {
		if _, ok := w.real[id]; ok {
			continue
		}
		ep, key := w.byKey["ep_"], w.byKey["api_key"]
		if ep == "" || key == "" {
			w.t.Fatalf("README names delivery %s before it created an endpoint", id)
		}
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		var found string
		ok := rc.WaitFor(30*time.Second, func() bool {
			req, _ := http.NewRequest(http.MethodGet, "http://"+w.addr+"/v1/endpoints/"+ep+"/deliveries?status=succeeded", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := hc.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var l struct{ Data []struct{ ID string } }
			if json.NewDecoder(resp.Body).Decode(&l) != nil || len(l.Data) == 0 {
				return false
			}
			found = l.Data[0].ID
			return true
		})
		if !ok {
			w.t.Fatal("the published event's delivery did not succeed within 30s")
		}
		w.learn(id, found)
	}
}

func (w *readmeWalk) learn(readme, real string) {
	if prev, ok := w.real[readme]; ok {
		if prev != real {
			w.t.Fatalf("README uses %s for two different values: %s and %s", readme, prev, real)
		}
		return
	}
	w.real[readme] = real
	w.given[real] = true
	w.subs = append(w.subs, [2]string{readme, real})
}

// idFields are fields whose values the server makes up; the README's value
// stands for the one this server gave, and later blocks use it.
var idFields = map[string]bool{"id": true, "api_key": true, "secret": true, "endpoint_id": true, "event_id": true}

// compareJSON checks an answer against the JSON the README shows after the
// request: every field the README shows is there, with the same value,
// except ids (same prefix, remembered), times (valid RFC 3339) and "…".
func (w *readmeWalk) compareJSON(readme, answer string) {
	w.t.Helper()
	var want, got map[string]any
	if err := json.Unmarshal([]byte(w.rewrite(readme)), &want); err != nil {
		w.t.Fatalf("README JSON does not parse: %v\n%s", err, readme)
	}
	if err := json.Unmarshal([]byte(answer), &got); err != nil {
		w.t.Fatalf("answer is not a JSON object: %v\n%s", err, answer)
	}
	w.compareObject("", want, got)
}

func (w *readmeWalk) compareObject(path string, want, got map[string]any) {
	w.t.Helper()
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			w.t.Errorf("answer lacks %s%s, which the README shows", path, k)
			continue
		}
		w.compareValue(path+k, k, wv, gv)
	}
}

func (w *readmeWalk) compareValue(path, key string, wv, gv any) {
	w.t.Helper()
	ws, isString := wv.(string)
	switch {
	case isString && idFields[key]:
		gs, _ := gv.(string)
		prefix := ws[:strings.Index(ws, "_")+1]
		switch {
		case w.given[ws] && gs != ws: // an id an earlier answer gave
			w.t.Errorf("%s = %v, want %s as before", path, gv, ws)
		case gs == "" || !strings.HasPrefix(gs, prefix):
			w.t.Errorf("%s = %v, want an id like %s", path, gv, ws)
		default:
			w.learn(ws, gs)
			w.byKey[key], w.byKey[prefix] = gs, gs
		}
	case isString && strings.Contains(ws, "…"), key == "duration_ms":
	case key == "at" || key == "timestamp" || strings.HasSuffix(key, "_at"):
		gs, _ := gv.(string)
		if _, err := time.Parse(time.RFC3339Nano, gs); err != nil {
			w.t.Errorf("%s = %v, want an RFC 3339 time", path, gv)
		}
	default:
		wm, wIsMap := wv.(map[string]any)
		gm, gIsMap := gv.(map[string]any)
		wa, wIsArr := wv.([]any)
		ga, gIsArr := gv.([]any)
		switch {
		case wIsMap && gIsMap:
			w.compareObject(path+".", wm, gm)
		case wIsArr && gIsArr && len(wa) == len(ga):
			for i := range wa {
				w.compareValue(path+"["+strconv.Itoa(i)+"]", key, wa[i], ga[i])
			}
		case !reflect.DeepEqual(wv, gv):
			w.t.Errorf("%s = %v, README shows %v", path, gv, wv)
		}
	}
}

// checkDuplicate: the README promises that the same idempotency key again
// answers the same id with "duplicate":true.
func (w *readmeWalk) checkDuplicate(publish string) {
	w.t.Helper()
	answers := w.run(publish)
	var a struct {
		ID        string `json:"id"`
		Duplicate bool   `json:"duplicate"`
	}
	last := answers[len(answers)-1]
	if err := json.Unmarshal([]byte(last.body), &a); err != nil || a.ID != w.byKey["evt_"] || !a.Duplicate || last.status != http.StatusAccepted {
		w.t.Fatalf("publishing again answered %d %s; want 202 with the same id (%s) and \"duplicate\":true", last.status, last.body, w.byKey["evt_"])
	}
}

// checkWebhook: the receiver got the event once, signed with the endpoint's
// secret as the Standard Webhooks scheme says, with the data published.
func (w *readmeWalk) checkWebhook(rc *receiver.Receiver, publish string) {
	w.t.Helper()
	time.Sleep(200 * time.Millisecond) // a second, wrong, delivery would show up now
	reqs := rc.Requests()
	if len(reqs) != 1 {
		w.t.Fatalf("receiver got %d webhooks, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Header.Get("webhook-id") != w.byKey["evt_"] {
		w.t.Errorf("webhook-id = %q, want the event id %q", r.Header.Get("webhook-id"), w.byKey["evt_"])
	}
	if err := signature.Verify(w.byKey["secret"], r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"),
		r.Header.Get("webhook-signature"), r.Body, time.Now(), signature.DefaultTolerance); err != nil {
		w.t.Errorf("webhook signature does not verify with the endpoint's secret: %v", err)
	}
	m := regexp.MustCompile(`-d '([^']*)'`).FindStringSubmatch(publish)
	if m == nil {
		w.t.Fatalf("no -d body in the publish block:\n%s", publish)
	}
	var sent, got struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(m[1]), &sent); err != nil {
		w.t.Fatal(err)
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Type != sent.Type || string(got.Data) != string(sent.Data) {
		w.t.Errorf("webhook body %s; want type %s and data %s", r.Body, sent.Type, sent.Data)
	}
}
