package main

// Tests that keep the deployment files and docs/deployment.md honest: the
// serve flags they give exist and parse, ports agree, the systemd unit
// verifies. Docker and a running systemd are not needed (nor used).

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoFile reads a file of the repository.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// shellWords splits a command line as sh would for plain words, single and
// double quotes; no expansion.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// dryServe parses serve's flags and checks them as serve does before it
// opens anything; it returns the options.
func dryServe(args []string) (*serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := serveFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("serve: unexpected argument %q", pos[0])
	}
	_, err = o.config(io.Discard)
	return o, err
}

// dryRun resolves a command line (without "slotwire") through the command
// tree and parses its flags, without running it.
func dryRun(args []string) error {
	c := &cli{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }}
	c.root = commandTree()
	cmd, rest, err := resolve(c.root, args, c)
	if err != nil {
		return err
	}
	if cmd.path() == "serve" {
		_, err := dryServe(rest)
		return err
	}
	fs, _ := cmd.flagSet(c)
	pos, err := parseInterspersed(fs, rest)
	switch {
	case err != nil:
		return err
	case cmd.nargs >= 0 && len(pos) != cmd.nargs:
		return usagef("%s takes %d arguments, got %q", cmd.path(), cmd.nargs, pos)
	}
	return nil
}

// knownVariables are the SLOTWIRE_* variables: serve's, the key, and the
// command line's connection settings.
func knownVariables() map[string]bool {
	known := map[string]bool{"SLOTWIRE_SECRET_KEY": true, "SLOTWIRE_URL": true, "SLOTWIRE_API_KEY": true}
	for _, s := range serveSpecs() {
		known[s.Env] = true
	}
	return known
}

// checkVariables: every SLOTWIRE_* name in text is one the binary reads.
func checkVariables(t *testing.T, where, text string) {
	t.Helper()
	known := knownVariables()
	for _, v := range regexp.MustCompile(`SLOTWIRE_[A-Z0-9_]+`).FindAllString(text, -1) {
		if !known[v] {
			t.Errorf("%s names %s, which slotwire does not read", where, v)
		}
	}
}

// specDefault is the code's default of a serve flag.
func specDefault(t *testing.T, name string) string {
	t.Helper()
	for _, s := range serveSpecs() {
		if s.Name == name {
			return s.Default
		}
	}
	t.Fatalf("no serve flag --%s", name)
	return ""
}

// unitFile is a systemd unit: section -> key -> values, in order.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, text string) unitFile {
	t.Helper()
	u, section := unitFile{}, ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		case section == "" || !strings.Contains(line, "=") || strings.HasSuffix(line, `\`):
			t.Fatalf("deploy/slotwire.service:%d: cannot read %q", n, line)
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unitFile) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// TestSystemdUnit: deploy/slotwire.service has its hardening, runs serve
// with flags that exist and parse, keeps the database in its state
// directory, and stops slowly enough; systemd-analyze verify finds nothing
// wrong with it where systemd-analyze is installed.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	text := repoFile(t, "deploy/slotwire.service")
	u := parseUnit(t, text)
	want := map[string]string{
		"Type": "simple", "DynamicUser": "yes", "StateDirectory": "slotwire", "ProtectSystem": "strict",
		"NoNewPrivileges": "yes", "ProtectHome": "yes", "PrivateTmp": "yes", "Restart": "on-failure",
		"KillSignal": "SIGTERM", "CapabilityBoundingSet": "",
	}
	for k, v := range want {
		if got, ok := u["Service"][k]; !ok || got[len(got)-1] != v {
			t.Errorf("[Service] %s=%q, want %q", k, got, v)
		}
	}
	if u.get("Install", "WantedBy") != "multi-user.target" || u.get("Unit", "After") != "network-online.target" {
		t.Errorf("[Install] WantedBy or [Unit] After is not the usual")
	}
	stop, err := time.ParseDuration(u.get("Service", "TimeoutStopSec") + "s")
	// 15 s of HTTP shutdown, then --drain-timeout.
	if need := 15*time.Second + mustDuration(t, specDefault(t, "drain-timeout")); err != nil || stop <= need {
		t.Errorf("TimeoutStopSec=%s: want more than %s", u.get("Service", "TimeoutStopSec"), need)
	}
	args := shellWords(u.get("Service", "ExecStart"))
	if len(args) < 2 || args[0] != "/usr/local/bin/slotwire" || args[1] != "serve" {
		t.Fatalf("ExecStart=%q: want /usr/local/bin/slotwire serve …", args)
	}
	o, err := dryServe(args[2:])
	if err != nil {
		t.Fatalf("ExecStart: %v", err)
	}
	if dir := "/var/lib/" + u.get("Service", "StateDirectory"); filepath.Dir(o.cfg.DB) != dir {
		t.Errorf("ExecStart --db %s is not in the state directory %s", o.cfg.DB, dir)
	}
	if o.cfg.Addr != specDefault(t, "addr") || !strings.HasPrefix(o.cfg.MetricsAddr, "127.0.0.1:") {
		t.Errorf("ExecStart: --addr %s, --metrics-addr %s: want the proxies' 127.0.0.1:8080 and a loopback metrics listener", o.cfg.Addr, o.cfg.MetricsAddr)
	}
	checkVariables(t, "deploy/slotwire.service", text)
	verifyUnit(t, text)
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := parseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// verifyUnit runs systemd-analyze verify on the unit, its ExecStart
// pointed at an executable that exists (this test's binary).
func verifyUnit(t *testing.T, text string) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: unit not verified by systemd")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "slotwire.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/usr/local/bin/slotwire", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if strings.Contains(string(out), path) || strings.Contains(string(out), "slotwire.service") {
		t.Errorf("systemd-analyze verify deploy/slotwire.service:\n%s", out)
	} else if err != nil {
		t.Skipf("systemd-analyze verify does not run here (%v):\n%s", err, out)
	}
}

// dockerInstructions reads a Dockerfile: instruction -> arguments, with
// continuation lines joined.
func dockerInstructions(text string) map[string][]string {
	out := map[string][]string{}
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ins, args, _ := strings.Cut(line, " ")
		out[strings.ToUpper(ins)] = append(out[strings.ToUpper(ins)], strings.TrimSpace(args))
	}
	return out
}

// TestDockerfile: the image builds with the module's Go release and without
// cgo, runs serve as a non-root user with flags that exist and parse, listens
// on the exposed port, keeps the database in the volume, and checks /healthz
// on the port it listens on. (No Docker daemon here: the build itself is
// not run.)
func TestDockerfile(t *testing.T) {
	t.Parallel()
	text := repoFile(t, "Dockerfile")
	d := dockerInstructions(text)
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(repoFile(t, "go.mod"))
	if len(d["FROM"]) != 2 || d["FROM"][0] != "golang:"+goVersion[1]+" AS build" {
		t.Errorf("FROM %q: want a build stage golang:%s AS build, then the image", d["FROM"], goVersion[1])
	}
	if !strings.Contains(text, "CGO_ENABLED=0 go build") || strings.Contains(repoFile(t, "go.mod"), "mattn/go-sqlite3") {
		t.Error("the build must be CGO_ENABLED=0, with the pure Go SQLite driver")
	}
	if u := d["USER"]; len(u) != 1 || strings.HasPrefix(u[0], "root") || strings.HasPrefix(u[0], "0") {
		t.Errorf("USER %q: want a non-root user", u)
	}
	var entry, cmd []string
	if len(d["ENTRYPOINT"]) != 1 || len(d["CMD"]) != 1 ||
		json.Unmarshal([]byte(d["ENTRYPOINT"][0]), &entry) != nil || json.Unmarshal([]byte(d["CMD"][0]), &cmd) != nil {
		t.Fatalf("ENTRYPOINT %q and CMD %q: want one JSON array each", d["ENTRYPOINT"], d["CMD"])
	}
	if len(entry) != 1 || !strings.HasSuffix(entry[0], "/slotwire") || len(cmd) == 0 || cmd[0] != "serve" {
		t.Fatalf("ENTRYPOINT %q CMD %q: want slotwire, then serve …", entry, cmd)
	}
	o, err := dryServe(cmd[1:])
	if err != nil {
		t.Fatalf("CMD: %v", err)
	}
	host, port, _ := net.SplitHostPort(o.cfg.Addr)
	if host != "0.0.0.0" || len(d["EXPOSE"]) != 1 || d["EXPOSE"][0] != port {
		t.Errorf("CMD --addr %s, EXPOSE %q: want 0.0.0.0 and the exposed port", o.cfg.Addr, d["EXPOSE"])
	}
	if len(d["VOLUME"]) != 1 || d["VOLUME"][0] != filepath.Dir(o.cfg.DB) || o.cfg.SecretKeyFile != "" {
		t.Errorf("VOLUME %q: want the directory of --db %s (where slotwire.key is made too)", d["VOLUME"], o.cfg.DB)
	}
	checkHealthcheck(t, strings.Join(d["HEALTHCHECK"], " "), entry[0], port)
	if o.logFormat != "json" {
		t.Errorf("CMD: --log-format %s, want json", o.logFormat)
	}
	ignore := repoFile(t, ".dockerignore")
	for _, p := range []string{".git", "*.db", "*.key"} {
		if !strings.Contains(ignore, "\n"+p+"\n") {
			t.Errorf(".dockerignore does not leave out %s", p)
		}
	}
	checkVariables(t, "Dockerfile", text)
}

// checkHealthcheck: the image's HEALTHCHECK runs "slotwire healthcheck" in
// exec form (no shell, no curl) with flags that exist, on the port serve
// listens on, and gives up before Docker's --timeout.
func checkHealthcheck(t *testing.T, hc, binary, port string) {
	t.Helper()
	opts, exec, _ := strings.Cut(hc, "CMD ")
	var argv []string
	if json.Unmarshal([]byte(exec), &argv) != nil || len(argv) < 2 || argv[0] != binary || argv[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK %q: want CMD [%q, \"healthcheck\", …], in exec form", hc, binary)
	}
	fs, _ := commandTree().find("healthcheck").flagSet(&cli{getenv: func(string) string { return "" }})
	if pos, err := parseInterspersed(fs, argv[2:]); err != nil || len(pos) > 0 {
		t.Fatalf("HEALTHCHECK %q: %v %q", argv, err, pos)
	}
	if u := fs.Lookup("url").Value.String(); u != "http://127.0.0.1:"+port {
		t.Errorf("HEALTHCHECK --url %s: want http://127.0.0.1:%s, where serve listens", u, port)
	}
	m := regexp.MustCompile(`--timeout=(\S+)`).FindStringSubmatch(opts)
	if m == nil {
		t.Fatalf("HEALTHCHECK %q has no --timeout", hc)
	}
	docker, _ := time.ParseDuration(m[1])
	if own, _ := parseDuration(fs.Lookup("timeout").Value.String()); own >= docker {
		t.Errorf("HEALTHCHECK: slotwire healthcheck --timeout %s, want less than Docker's --timeout=%s", own, docker)
	}
}

// TestProxyExamples: the Caddyfile and the nginx block proxy to serve's
// default --addr, wait longer than the feed's longest long poll (30 s,
// docs/api.md), and nginx takes a full batch publish.
func TestProxyExamples(t *testing.T) {
	t.Parallel()
	addr := specDefault(t, "addr")
	const longPoll = 30 * time.Second
	caddy := repoFile(t, "deploy/Caddyfile")
	if !regexp.MustCompile(`(?m)^\s*reverse_proxy ` + regexp.QuoteMeta(addr) + ` \{`).MatchString(caddy) {
		t.Errorf("deploy/Caddyfile does not reverse_proxy to %s", addr)
	}
	for _, key := range []string{"response_header_timeout", "read_timeout"} {
		if d := directiveDuration(t, caddy, key); d <= longPoll {
			t.Errorf("deploy/Caddyfile: %s %s is not above the long poll's %s", key, d, longPoll)
		}
	}
	nginx := repoFile(t, "deploy/nginx.conf")
	if !regexp.MustCompile(`(?m)^\s*server `+regexp.QuoteMeta(addr)+`;`).MatchString(nginx) ||
		!strings.Contains(nginx, "proxy_pass http://slotwire;") {
		t.Errorf("deploy/nginx.conf does not proxy to %s", addr)
	}
	if d := directiveDuration(t, nginx, "proxy_read_timeout"); d <= longPoll {
		t.Errorf("deploy/nginx.conf: proxy_read_timeout %s is not above the long poll's %s", d, longPoll)
	}
	m := regexp.MustCompile(`client_max_body_size (\d+)m;`).FindStringSubmatch(nginx)
	maxEvent := 256 << 10 // --max-event-bytes
	if specDefault(t, "max-event-bytes") != "262144" || m == nil || mustAtoi(t, m[1])<<20 < 100*maxEvent {
		t.Errorf("deploy/nginx.conf: client_max_body_size %q is below a batch of 100 events of --max-event-bytes", m)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// directiveDuration reads "key 60s" from a configuration file.
func directiveDuration(t *testing.T, text, key string) time.Duration {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + key + ` (\S+?);?$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %s", key)
	}
	return mustDuration(t, m[1])
}

// docCommandLines returns the command lines of the sh blocks of a Markdown
// document whose command is slotwire (after VAR=value words), without
// "slotwire".
func docCommandLines(text string) (lines [][]string, envs []string) {
	inBlock := false
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			inBlock = !inBlock && trimmed == "```sh"
			continue
		case !inBlock:
			continue
		}
		words := shellWords(trimmed)
		for len(words) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(words[0]) {
			envs, words = append(envs, words[0]), words[1:]
		}
		if len(words) > 0 && words[0] == "slotwire" {
			lines = append(lines, words[1:])
		}
	}
	return lines, envs
}

// TestDeploymentCommandLines: every slotwire command line shown in
// docs/deployment.md resolves to a command whose flags parse (serve's are
// also checked as serve does before it starts), and every SLOTWIRE_*
// variable it names exists; a migrate line also runs, on a fresh SQLite
// file.
func TestDeploymentCommandLines(t *testing.T) {
	t.Parallel()
	doc := repoFile(t, "docs/deployment.md")
	lines, envs := docCommandLines(doc)
	if len(lines) < 4 {
		t.Fatalf("found only %d slotwire command lines in docs/deployment.md", len(lines))
	}
	for _, args := range lines {
		if err := dryRun(args); err != nil {
			t.Errorf("docs/deployment.md: slotwire %s: %v", strings.Join(args, " "), err)
		}
	}
	for _, e := range envs {
		checkVariables(t, "docs/deployment.md: "+e, strings.SplitN(e, "=", 2)[0])
	}
	checkVariables(t, "docs/deployment.md", doc)
	for _, args := range lines {
		if args[0] != "migrate" {
			continue
		}
		db := filepath.Join(t.TempDir(), "slotwire.db")
		var out strings.Builder
		if err := runWith(context.Background(), []string{"migrate", "--db", db}, strings.NewReader(""), &out, io.Discard, os.Getenv); err != nil {
			t.Errorf("slotwire migrate --db %s: %v", db, err)
		}
		break
	}
}
