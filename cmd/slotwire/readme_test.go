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
)

// The README's "Your first webhook in five minutes" is a test: its blocks
// run in order, as a user would type them, against the binary they build.
//   - A sh block whose prose says "leave it running" runs in the background,
//     in a shell of its own (a new terminal), until the test ends; the
//     first one builds and starts the server, in the repository root.
//   - Other sh blocks run one after the other in a shell that has the
//     exports of the earlier ones, as the user's terminal would; each answer
//     of a curl must match the JSON block that follows (ids, keys and times
//     excepted) and the status the prose promises ("The answer is `201 ").
//   - A code block whose prose says "save this as `NAME`" is written to NAME.
//   - A text block is what a background command prints: the ones whose
//     command the prose names in backticks, else the last one started. The
//     test waits until its lines appear, in order.
//
// Everything but the server runs in one empty directory. Only what cannot
// be the same on a test machine is rewritten: the ports (8080 of the server,
// 3000 and 3001 of the receivers, replaced by free ones), the ids and keys
// the README shows, replaced by the ones the server handed out earlier in
// the walk, and the two installs, which work offline: `npm install
// standardwebhooks` links the package the signature tests installed from
// signature/testdata/npm/package.json, and `go get
// github.com/slotwire/slotwire/signature` is given a replace directive to
// this repository and GOPROXY=off (a user gets the published module).

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
	dir  string // the user's directory, where files are saved
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
	bg      []*bgProc // the background blocks, in the order started
}

// bgProc is a background block and what it printed so far.
type bgProc struct {
	block  string // as the README has it
	out    syncBuffer
	seen   int // lines of out matched by earlier text blocks
	exited chan struct{}
}

func (w *readmeWalk) rewrite(s string) string {
	for _, p := range w.subs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}

// startReadmeServer runs the README's first block, which builds and starts
// the server, in the repository root with GOBIN in a temporary directory;
// env has that directory in PATH, as the user's has GOBIN.
func startReadmeServer(t *testing.T, block string) (addr string, env []string) {
	t.Helper()
	dir := t.TempDir()
	addr = freeAddr(t)
	env = append(os.Environ(), "no_proxy=*", "NO_PROXY=*", "http_proxy=", "HTTP_PROXY=",
		"GOBIN="+dir, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	serverEnv := append(env, "SLOTWIRE_ADDR="+addr, "SLOTWIRE_DB="+filepath.Join(dir, "slotwire.db"))
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

// start runs a background block in a shell of its own (a new terminal:
// no exports of earlier blocks) in the user's directory, until the test
// ends.
func (w *readmeWalk) start(block string) {
	w.t.Helper()
	p := &bgProc{block: block, exited: make(chan struct{})}
	cmd := exec.Command("sh", "-ec", w.rewrite(block))
	cmd.Dir, cmd.Env = w.dir, w.env
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	w.t.Cleanup(func() { stopGroup(cmd.Process.Pid, p.exited) })
	w.bg = append(w.bg, p)
}

// save writes a code block to the file the prose names.
func (w *readmeWalk) save(name, text string) {
	w.t.Helper()
	if name != filepath.Base(name) {
		w.t.Fatalf("README saves %q: want a file name in the current directory", name)
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(w.rewrite(text)), 0o644); err != nil {
		w.t.Fatal(err)
	}
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
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir, cmd.Env = w.dir, w.env
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
	if len(answers) == 0 && strings.Contains(block, "curl ") {
		w.t.Fatalf("README block printed no answer:\n%s\n%s", script, out)
	}
	w.exports += exports
	return answers
}

var (
	promisedStatus = regexp.MustCompile("The answer is `(\\d{3}) ")
	backgroundRe   = regexp.MustCompile(`(?i)\bleave it running\b`)
	saveAsRe       = regexp.MustCompile("(?i)\\bsave this as `([^`]+)`")
	backticked     = regexp.MustCompile("`([^`]+)`")
)

// TestReadmeFiveMinutes walks the README's five-minute path against the real
// binary: the server, slotwire listen, and the Node and Go receivers.
func TestReadmeFiveMinutes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	repo := readmeTools(t)
	blocks := readmeBlocks(t)
	if !backgroundRe.MatchString(blocks[0].prose) {
		t.Fatalf("the prose before the README's first block must say to leave the server running:\n%s", blocks[0].prose)
	}
	addr, env := startReadmeServer(t, blocks[0].text)
	recv1, recv2 := freeAddr(t), freeAddr(t)
	_, port1, _ := net.SplitHostPort(recv1)
	_, port2, _ := net.SplitHostPort(recv2)
	w := &readmeWalk{t: t, addr: addr, env: env, dir: t.TempDir(), real: map[string]string{}, given: map[string]bool{},
		byKey: map[string]string{}, subs: [][2]string{{"localhost:8080", addr},
			{":3000", ":" + port1}, {"(3000", "(" + port1}, {":3001", ":" + port2},
			{"npm install standardwebhooks", "ln -s " + filepath.Join(repo, "signature", "testdata", "npm", "node_modules") + " node_modules"},
			{"go get github.com/slotwire/slotwire/signature", "go mod edit -replace=github.com/slotwire/slotwire=" + repo +
				" && GOPROXY=off go get github.com/slotwire/slotwire/signature"}}}
	publish := w.walk(blocks[1:])
	if publish == "" {
		t.Fatal("the five-minute section publishes no event")
	}
	w.checkDuplicate(publish)
	w.checkPublished()
}

// readmeTools skips the test, or fails it with SLOTWIRE_REQUIRE_NPM=1,
// when a tool the README uses is missing; it returns the repository root.
func readmeTools(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"curl", "go", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SLOTWIRE_REQUIRE_NPM") == "1" {
				t.Fatalf("%s is needed to run the README's commands: %v", tool, err)
			}
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "signature", "testdata", "npm", "node_modules", "standardwebhooks")); err != nil {
		if os.Getenv("SLOTWIRE_REQUIRE_NPM") == "1" {
			t.Fatalf("the standardwebhooks npm package is needed for the README's Node receiver: %v", err)
		}
		t.Skip("the standardwebhooks npm package is not installed; run make test")
	}
	return repo
}

// walk runs the blocks after the server's; it returns the block that
// publishes an event.
func (w *readmeWalk) walk(blocks []mdBlock) (publish string) {
	w.t.Helper()
	for i := 0; i < len(blocks); i++ {
		b := blocks[i]
		name := saveAsRe.FindStringSubmatch(b.prose)
		switch {
		case b.lang == "sh" && backgroundRe.MatchString(b.prose):
			w.start(b.text)
		case b.lang == "sh":
			answers := w.run(b.text)
			if len(answers) > 0 {
				w.checkStatus(b, answers)
			}
			if i+1 < len(blocks) && blocks[i+1].lang == "json" {
				if len(answers) == 0 {
					w.t.Fatalf("README shows JSON after a block without curl:\n%s", b.text)
				}
				w.compareJSON(blocks[i+1].text, answers[len(answers)-1].body)
				i++
			}
			if strings.Contains(b.text, "/v1/events") {
				publish = b.text
			}
		case name != nil:
			w.save(name[1], b.text)
		case b.lang == "text":
			for _, p := range w.printers(b.prose) {
				w.expect(p, b.text)
			}
		default:
			w.t.Fatalf("the README's five-minute section has a %s block the test does not run (no sh, no \"save this as\"):\n%s", b.lang, b.text)
		}
	}
	return publish
}

// printers are the background blocks whose commands the prose names in
// backticks, or else the last one started.
func (w *readmeWalk) printers(prose string) []*bgProc {
	w.t.Helper()
	var ps []*bgProc
	for _, p := range w.bg {
		for _, m := range backticked.FindAllStringSubmatch(prose, -1) {
			if strings.Contains(p.block, m[1]) {
				ps = append(ps, p)
				break
			}
		}
	}
	if len(ps) == 0 && len(w.bg) > 0 {
		ps = append(ps, w.bg[len(w.bg)-1])
	}
	if len(ps) == 0 {
		w.t.Fatalf("README shows output before it starts a command in the background:\n%s", prose)
	}
	return ps
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

// checkPublished: the README promises that both receivers get the event
// published, verified, once.
func (w *readmeWalk) checkPublished() {
	w.t.Helper()
	n := 0
	for _, p := range w.bg {
		if !strings.Contains(p.out.String(), "\nverified ") && !strings.HasPrefix(p.out.String(), "verified ") {
			continue
		}
		n++
		line := "verified invoice.paid " + w.byKey["evt_"]
		w.waitFor(p, func(out string) bool { return strings.Contains(out, line+"\n") }, "a line "+line)
	}
	if n != 2 {
		w.t.Fatalf("%d background blocks printed a verified webhook; want the two receivers", n)
	}
	time.Sleep(300 * time.Millisecond) // a second delivery would show up now
	for _, p := range w.bg {
		if c := strings.Count(p.out.String(), "verified invoice.paid "); c > 1 {
			w.t.Errorf("%s\nprinted the published event %d times:\n%s", p.block, c, p.out.String())
		}
	}
}

// waitFor waits until what p printed satisfies ok: up to 3 minutes for
// its first lines (go run compiles first), a minute after; it fails the
// test if p exits first.
func (w *readmeWalk) waitFor(p *bgProc, ok func(out string) bool, what string) {
	w.t.Helper()
	limit := time.Minute
	if p.seen == 0 {
		limit = 3 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for !ok(p.out.String()) {
		select {
		case <-p.exited:
			if ok(p.out.String()) {
				return
			}
			w.t.Fatalf("README block\n%s\nexited before it printed %s:\n%s", p.block, what, p.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("README block\n%s\ndid not print %s within %v; it printed:\n%s", p.block, what, limit, p.out.String())
		}
	}
}

// expect waits until p prints the lines of a README text block, in order,
// after what earlier text blocks matched (other lines may come between),
// and learns the ids and secrets they show.
func (w *readmeWalk) expect(p *bgProc, want string) {
	w.t.Helper()
	pats, vars := w.outputPatterns(want)
	var groups []string
	w.waitFor(p, func(out string) bool {
		lines := strings.Split(out, "\n")
		next, got := p.seen, []string(nil)
		for _, re := range pats {
			for next < len(lines) && !re.MatchString(strings.TrimRight(lines[next], "\r")) {
				next++
			}
			if next == len(lines) {
				return false
			}
			got = append(got, re.FindStringSubmatch(strings.TrimRight(lines[next], "\r"))[1:]...)
			next++
		}
		p.seen, groups = next, got
		return true
	}, "these lines:\n"+w.rewrite(want))
	for i, v := range vars {
		w.learn(v, groups[i])
	}
}

// outputToken is what varies in a line a command prints: an id or secret
// the README shows, a clock time, a duration in ms, and "…" (anything).
var outputToken = regexp.MustCompile(`\b(?:ten|ep|evt|apt|res|dlv)_[0-9A-Z]{26}\b|\bwhsec_[A-Za-z0-9+/]+=*|\b\d\d:\d\d:\d\d\b|\(\d+ ms\)|…`)

// outputPatterns turns a README text block into one regexp a line, with a
// group for each id or secret the walk has not learned yet (vars: the
// README's values, in the order of the groups).
func (w *readmeWalk) outputPatterns(want string) (pats []*regexp.Regexp, vars []string) {
	for _, line := range strings.Split(strings.TrimRight(w.rewrite(want), "\n"), "\n") {
		if strings.TrimSpace(line) == "…" {
			continue // any lines: the match is a subsequence anyway
		}
		var re strings.Builder
		last := 0
		for _, m := range outputToken.FindAllStringIndex(line, -1) {
			re.WriteString(regexp.QuoteMeta(line[last:m[0]]))
			tok := line[m[0]:m[1]]
			switch {
			case w.given[tok]:
				re.WriteString(regexp.QuoteMeta(tok))
			case tok == "…":
				re.WriteString(".*")
			case strings.HasPrefix(tok, "("):
				re.WriteString(`\(\d+ ms\)`)
			case strings.HasPrefix(tok, "whsec_"):
				re.WriteString(`(whsec_[A-Za-z0-9+/]+=*)`)
				vars = append(vars, tok)
			case strings.Contains(tok, "_"):
				re.WriteString("(" + tok[:strings.Index(tok, "_")+1] + `[0-9A-Z]{26})`)
				vars = append(vars, tok)
			default:
				re.WriteString(`\d\d:\d\d:\d\d`)
			}
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(line[last:]))
		pats = append(pats, regexp.MustCompile("^"+re.String()+"$"))
	}
	return pats, vars
}
