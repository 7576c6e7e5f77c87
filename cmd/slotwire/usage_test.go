package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sw runs the command line in process and returns what it printed and the
// exit status main would give.
func sw(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = exitCode(run(context.Background(), args, &out, &errb), &errb)
	return out.String(), errb.String(), code
}

func TestServeHelpShowsDefaults(t *testing.T) {
	t.Parallel()
	out, errs, code := sw(t, "serve", "-h")
	help := out + errs
	if code != 0 {
		t.Fatalf("serve -h exit %d", code)
	}
	for _, want := range []string{"(default 15s)", "(default 2m)", "(default 5d)", "(default 60d)", "(default 10s)", "(default 1s)",
		"(default 0s,5s,5m,30m,2h,5h,10h,10h)", "run slotwire migrate first"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve -h does not show %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "`") || strings.Contains(help, "-no-migrate slotwire") {
		t.Errorf("serve -h has a backtick or an argument name taken from one:\n%s", help)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "x.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"tenant"}, "tenant create"},
		{[]string{"tenant", "create", "--db", db}, "--name is required"},
		{[]string{"tenant", "create", "--db", db, "--name", " "}, "--name is required"},
		{[]string{"tenant", "create", "--db", db, "--name", "A", "--plan", "gold"}, `--plan "gold" does not exist; the plans are basic`},
		{[]string{"tenant", "create", "--db", db, "--name", "A", "--plans", "x"}, "--plans"},
		{[]string{"migrate", "--db", db, "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--delivery-timeout", "soon"}, `"soon" is not a duration`},
		{[]string{"bench", "--scenarios", "x"}, `--scenarios: "x" is not a number`},
		{[]string{"serve", "--db", db, "--log-level", "loud"}, `--log-level: log level "loud": use debug, info, warn or error`},
		{[]string{"serve", "--db", db, "--log-format", "xml"}, `--log-format: log format "xml": use text or json`},
		{[]string{"serve", "--db", db, "--role", "boss"}, `--role: role "boss": use all, api or worker`},
		{[]string{"serve", "--db", db, "--plans", "gold"}, "--plans: "},
		{[]string{"serve", "--db", db, "--retention", "2d", "--delete-after", "1d"}, "slotwire: --delete-after (1d) must be at least --retention (2d)"},
	} {
		_, errs, code := sw(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("slotwire %s: exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

// TestBenchJSONPath: bench writes its results to a new file in the ignored
// bench-results/ by default, to --json FILE, or nowhere with --json "".
func TestBenchJSONPath(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 10, 4, 5, 0, time.UTC)
	var b benchJSON
	if got := b.file(now); got != filepath.Join("bench-results", "bench-20261205-100405.json") {
		t.Errorf("default: %s", got)
	}
	b.Set("")
	if got := b.file(now); got != "" {
		t.Errorf(`--json "": %q`, got)
	}
	b.Set("old.json")
	if got := b.file(now); got != "old.json" {
		t.Errorf("--json old.json: %q", got)
	}
	ignore, err := os.ReadFile(filepath.Join("..", "..", ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), "\n/bench-results/\n") || !strings.Contains(string(ignore), "\n/bench-result.json\n") {
		t.Errorf(".gitignore does not ignore bench-results/ and bench-result.json (%v)", err)
	}
}

// TestHelpShowsNoSecrets: -h shows defaults, some of them from the
// environment, but never a token or a URL that may hold a password.
func TestHelpShowsNoSecrets(t *testing.T) {
	t.Setenv("SLOTWIRE_ADMIN_TOKEN", "admin-secret-from-env")
	t.Setenv("SLOTWIRE_SMTP_URL", "smtp://user:smtp-password@mail.example.com:587")
	t.Setenv("SLOTWIRE_LOG_LEVEL", "debug")
	out, _, code := sw(t, "serve", "-h")
	if code != 0 || strings.Contains(out, "admin-secret-from-env") || strings.Contains(out, "smtp-password") {
		t.Fatalf("serve -h shows a secret from the environment:\n%s", out)
	}
	if !strings.Contains(out, `(default "debug")`) {
		t.Fatalf("serve -h does not show the default from $SLOTWIRE_LOG_LEVEL:\n%s", out)
	}
}
