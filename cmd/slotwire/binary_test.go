package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBinary runs the built binary with only the environment given (and
// PATH, HOME pointing at a fresh directory) and returns its output and
// exit status.
func runBinary(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBinaryExitStatus runs the real binary: the exit status is 0 on
// success, 1 on failure, 2 on a usage error, as docs/operations.md says.
func TestBinaryExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	if _, errs, code := runBinary(t, nil, "", "tenant", "create", "--db", db); code != 2 || errs != "slotwire: tenant create: --name is required\n" {
		t.Errorf("tenant create without --name: exit %d, %q", code, errs)
	}
	if out, _, code := runBinary(t, nil, "", "tenant", "create", "--db", db, "--name", "Acme"); code != 0 || !strings.Contains(out, `"api_key": "sk_`) {
		t.Errorf("tenant create: exit %d, %q", code, out)
	}
	if out, _, code := runBinary(t, nil, "", "serve", "-h"); code != 0 || !strings.Contains(out, "--delivery-timeout duration") || !strings.Contains(out, "(default 15s)") {
		t.Errorf("serve -h: exit %d\n%s", code, out)
	}
	h := standardRequest(t, vecSecret, vecID, time.Unix(vecTS, 0), vecBody)
	dump := httpDump(h, vecBody, true)
	for _, c := range []struct {
		secret string
		code   int
	}{{vecSecret, 0}, {signatureOther, 1}, {"whsec_!!", 2}} {
		if _, errs, code := runBinary(t, nil, dump, "verify", "--secret", c.secret, "--now", vecNow); code != c.code {
			t.Errorf("verify --secret %s: exit %d, want %d (%s)", c.secret, code, c.code, errs)
		}
	}
}

const signatureOther = "whsec_YW5vdGhlciBrZXkgb2YgdGhpcnR5LXR3byBieXRlcyE="

// TestBinaryAPICommands runs API commands of the real binary against a
// real server process, configured through the environment.
func TestBinaryAPICommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	addr := freeAddr(t)
	startProc(t, filepath.Join(t.TempDir(), "s.db"), addr)
	env := []string{"SLOTWIRE_URL=http://" + addr, "SLOTWIRE_ADMIN_TOKEN=adm"}
	out, errs, code := runBinary(t, env, "", "tenants", "create", "--name", "Acme", "--json")
	var ten struct {
		APIKey string `json:"api_key"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ten) != nil || ten.APIKey == "" {
		t.Fatalf("tenants create: exit %d %s %s", code, out, errs)
	}
	env = append(env, "SLOTWIRE_API_KEY="+ten.APIKey)
	if out, errs, code := runBinary(t, env, `{"n":1}`, "events", "publish", "--type", "order.paid", "--data", "-"); code != 0 || !strings.HasPrefix(out, "evt_") {
		t.Fatalf("events publish: exit %d %s %s", code, out, errs)
	}
	if _, errs, code := runBinary(t, env, "", "events", "show", "evt_nope"); code != 1 || !strings.Contains(errs, "HTTP 404") {
		t.Fatalf("events show of an unknown id: exit %d %s", code, errs)
	}
	if _, errs, code := runBinary(t, env[:1], "", "events", "list"); code != 2 || !strings.Contains(errs, "no api key") {
		t.Fatalf("events list without a key: exit %d %s", code, errs)
	}
}
