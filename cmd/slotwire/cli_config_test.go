package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes a profile file with the given mode and returns its
// path.
func writeConfig(t *testing.T, f configFile, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slotwire", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(f)
	if err := os.WriteFile(path, raw, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCLIConfigPrecedence: a setting comes from its flag, else its
// environment variable, else the profile; --profile on the command line
// counts as a flag.
func TestCLIConfigPrecedence(t *testing.T) {
	t.Parallel()
	s := startCLIServer(t, nil)
	good := s.tenant(t, "Acme").env["SLOTWIRE_API_KEY"]
	other := s.tenant(t, "Beta").env["SLOTWIRE_API_KEY"]
	path := writeConfig(t, configFile{Default: "local", Profiles: map[string]profile{
		"local": {URL: s.url, APIKey: good, AdminToken: cliAdminToken},
		"beta":  {URL: s.url, APIKey: other},
		"nokey": {URL: s.url},
	}}, 0o600)
	// The tenants tell themselves apart by their endpoints' descriptions.
	cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": good}}.must(t, "endpoints", "create", "http://127.0.0.1:9/a", "--types", "*", "--description", "acme-endpoint")
	cliCall{env: map[string]string{"SLOTWIRE_URL": s.url, "SLOTWIRE_API_KEY": other}}.must(t, "endpoints", "create", "http://127.0.0.1:9/b", "--types", "*", "--description", "beta-endpoint")
	whose := func(env map[string]string, args ...string) string {
		t.Helper()
		out := cliCall{env: env}.must(t, append([]string{"endpoints", "list"}, args...)...)
		switch {
		case strings.Contains(out, "acme-endpoint"):
			return "acme"
		case strings.Contains(out, "beta-endpoint"):
			return "beta"
		}
		t.Fatalf("endpoints list shows neither tenant:\n%s", out)
		return ""
	}
	cfg := map[string]string{"SLOTWIRE_CONFIG": path}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"SLOTWIRE_CONFIG": path}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"the file's default profile", cfg, nil, "acme"},
		{"$SLOTWIRE_PROFILE", with("SLOTWIRE_PROFILE", "beta"), nil, "beta"},
		{"--profile", cfg, []string{"--profile", "beta"}, "beta"},
		{"--profile before the command", cfg, nil, "beta"},
		{"the variable over the profile", with("SLOTWIRE_API_KEY", other), nil, "beta"},
		{"the flag over the variable", with("SLOTWIRE_API_KEY", other), []string{"--api-key", good}, "acme"},
		{"--profile over the variable", with("SLOTWIRE_API_KEY", good), []string{"--profile", "beta"}, "beta"},
		{"the variable where the profile has no key", with("SLOTWIRE_PROFILE", "nokey", "SLOTWIRE_API_KEY", other), nil, "beta"},
	} {
		args := c.args
		if c.name == "--profile before the command" {
			r := cliCall{env: c.env}.must(t, "--profile", "beta", "endpoints", "list")
			if !strings.Contains(r, "beta-endpoint") {
				t.Errorf("%s: %s", c.name, r)
			}
			continue
		}
		if got := whose(c.env, args...); got != c.want {
			t.Errorf("%s: acting as %s, want %s", c.name, got, c.want)
		}
	}
	// The admin token comes from the profile too.
	if out := (cliCall{env: cfg}).must(t, "tenants", "list"); !strings.Contains(out, "Beta") {
		t.Fatalf("tenants list with the profile's admin token:\n%s", out)
	}
}

func TestCLIConfigErrors(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, configFile{Profiles: map[string]profile{"prod": {URL: "http://127.0.0.1:9"}}}, 0o600)
	none := cliCall{}
	r := none.want(t, 2, "no url: give --url, set SLOTWIRE_URL, or add \"url\" to a profile in ", "endpoints", "list")
	if !strings.Contains(r.err, filepath.Join("slotwire", "config.json")) || !strings.Contains(r.err, "slotwire help config") {
		t.Fatalf("the error does not name the config file: %s", r.err)
	}
	withURL := cliCall{env: map[string]string{"SLOTWIRE_URL": "http://127.0.0.1:9"}}
	withURL.want(t, 2, "no api key: give --api-key, set SLOTWIRE_API_KEY", "events", "list")
	withURL.want(t, 2, "no admin token: give --admin-token, set SLOTWIRE_ADMIN_TOKEN", "tenants", "list")
	prod := cliCall{env: map[string]string{"SLOTWIRE_CONFIG": path, "SLOTWIRE_PROFILE": "prod"}}
	prod.want(t, 2, `or add "api_key" to profile "prod" in `+path, "events", "list")
	cliCall{env: map[string]string{"SLOTWIRE_CONFIG": path}}.want(t, 2, `profile "staging" is not in `+path+" (its profiles: prod)", "events", "list", "--profile", "staging", "--url", "http://x", "--api-key", "k")
	withMissing := cliCall{env: map[string]string{"SLOTWIRE_CONFIG": filepath.Join(t.TempDir(), "nope.json")}}
	withMissing.want(t, 2, "no config file", "events", "list")
	withURL.want(t, 2, `server URL "ftp://x": want http:// or https://`, "events", "list", "--url", "ftp://x", "--api-key", "k")
	broken := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(broken, []byte(`{"profiles":{"a":{"apikey":"x"}}}`), 0o600)
	cliCall{env: map[string]string{"SLOTWIRE_CONFIG": broken}}.want(t, 1, `unknown field "apikey"`, "events", "list")
	// A server that does not answer is an error (1), not a usage error.
	withURL.want(t, 1, "connection refused", "events", "list", "--api-key", "k")
	// A profile file others can read is used, with a warning.
	open := writeConfig(t, configFile{Profiles: map[string]profile{"default": {URL: "http://127.0.0.1:9", APIKey: "k"}}}, 0o644)
	r = cliCall{env: map[string]string{"SLOTWIRE_CONFIG": open}}.want(t, 1, "readable by others (mode 0644); chmod 600 it", "events", "list")
	if !strings.Contains(r.err, "connection refused") {
		t.Fatalf("the profile was not used: %s", r.err)
	}
}
