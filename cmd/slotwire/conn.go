package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slotwire/slotwire/client"
)

// connFlags are the connection settings given on the command line.
type connFlags struct {
	url, apiKey, adminToken, profile string
	// file and prof: the profile file, once read (loaded).
	loaded   bool
	file     string
	profName string
	prof     *profile
}

// configFile is the profile file: named sets of connection settings.
type configFile struct {
	// Default names the profile used without --profile or
	// $SLOTWIRE_PROFILE; without it, the profile named "default".
	Default  string             `json:"default,omitempty"`
	Profiles map[string]profile `json:"profiles"`
}

type profile struct {
	URL        string `json:"url,omitempty"`
	APIKey     string `json:"api_key,omitempty"`
	AdminToken string `json:"admin_token,omitempty"`
}

func (c *cli) addConnFlags(fs *flag.FlagSet, kind connKind) {
	if kind == connNone {
		return
	}
	fs.StringVar(&c.conn.url, "url", "", "server URL, e.g. http://127.0.0.1:8080 ($SLOTWIRE_URL)")
	if kind == connTenant {
		fs.StringVar(&c.conn.apiKey, "api-key", "", "the tenant's API key, sk_… ($SLOTWIRE_API_KEY)")
	} else {
		fs.StringVar(&c.conn.adminToken, "admin-token", "", "the server's admin token ($SLOTWIRE_ADMIN_TOKEN)")
	}
	fs.StringVar(&c.conn.profile, "profile", "", "profile of the config file to use ($SLOTWIRE_PROFILE)")
}

// configPath is $SLOTWIRE_CONFIG, else config.json in $XDG_CONFIG_HOME/slotwire
// or ~/.config/slotwire.
func (c *cli) configPath() string {
	if p := c.getenv("SLOTWIRE_CONFIG"); p != "" {
		return p
	}
	dir := c.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "slotwire", "config.json")
}

// loadProfile reads the profile file once and picks the profile:
// --profile, else $SLOTWIRE_PROFILE, else the file's default, else
// "default". A missing file is no error unless a profile or the file was
// named.
func (c *cli) loadProfile() error {
	if c.conn.loaded {
		return nil
	}
	c.conn.loaded = true
	name := c.conn.profile
	if name == "" {
		name = c.getenv("SLOTWIRE_PROFILE")
	}
	c.conn.file = c.configPath()
	data, err := os.ReadFile(c.conn.file)
	switch {
	case errors.Is(err, fs.ErrNotExist) && name == "" && c.getenv("SLOTWIRE_CONFIG") == "":
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return usagef("no config file %s (it holds the profiles; see slotwire help config)", c.conn.file)
	case err != nil:
		return err
	}
	var f configFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("config file %s: %v", c.conn.file, err)
	}
	explicit := name != ""
	if name == "" {
		name = f.Default
	}
	if name == "" {
		name = "default"
	}
	p, ok := f.Profiles[name]
	switch {
	case !ok && (explicit || f.Default != ""):
		return usagef("profile %q is not in %s (its profiles: %s)", name, c.conn.file, profileNames(f.Profiles))
	case !ok:
		return nil
	}
	if st, err := os.Stat(c.conn.file); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(c.stderr, "slotwire: warning: %s holds keys and is readable by others (mode %04o); chmod 600 it\n", c.conn.file, st.Mode().Perm())
	}
	c.conn.profName, c.conn.prof = name, &p
	return nil
}

func profileNames(m map[string]profile) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// setting is a connection setting: the flag, else the environment
// variable, else the profile's field; a usage error names what is missing
// and every way to give it.
func (c *cli) setting(flagValue, flagName, env, field string, get func(*profile) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := c.getenv(env); v != "" && c.conn.profile == "" {
		return v, nil
	}
	if err := c.loadProfile(); err != nil {
		return "", err
	}
	if c.conn.prof != nil && get(c.conn.prof) != "" {
		return get(c.conn.prof), nil
	}
	if v := c.getenv(env); v != "" {
		return v, nil
	}
	where := fmt.Sprintf("or add %q to a profile in %s", field, c.conn.file)
	if c.conn.prof != nil {
		where = fmt.Sprintf("or add %q to profile %q in %s", field, c.conn.profName, c.conn.file)
	}
	return "", usagef("no %s: give --%s, set %s, %s (see slotwire help config)", strings.ReplaceAll(field, "_", " "), flagName, env, where)
}

// client is an API client with the tenant's key (kind connTenant) or the
// admin token.
func (c *cli) client(kind connKind) (*client.Client, error) {
	if c.conn.profile != "" || c.getenv("SLOTWIRE_PROFILE") != "" {
		// A profile named must exist, whatever it would give.
		if err := c.loadProfile(); err != nil {
			return nil, err
		}
	}
	base, err := c.setting(c.conn.url, "url", "SLOTWIRE_URL", "url", func(p *profile) string { return p.URL })
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, usagef("server URL %q: want http:// or https://", base)
	}
	var token string
	if kind == connAdmin {
		token, err = c.setting(c.conn.adminToken, "admin-token", "SLOTWIRE_ADMIN_TOKEN", "admin_token", func(p *profile) string { return p.AdminToken })
	} else {
		token, err = c.setting(c.conn.apiKey, "api-key", "SLOTWIRE_API_KEY", "api_key", func(p *profile) string { return p.APIKey })
	}
	if err != nil {
		return nil, err
	}
	cl := client.New(base, token)
	cl.HTTP = c.http
	return cl, nil
}

// recorder keeps the body of the last answer, so that --json prints the
// API's JSON as it came rather than the client's types encoded again.
type recorder struct {
	base http.RoundTripper
	last []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.last = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// CloseIdleConnections closes the kept-alive connections, so that a
// command leaves none behind.
func (r *recorder) CloseIdleConnections() {
	if ci, ok := r.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func newHTTP() (*http.Client, *recorder) {
	rec := &recorder{base: http.DefaultTransport.(*http.Transport).Clone()}
	return &http.Client{Transport: rec, Timeout: 2 * time.Minute}, rec
}

// apiError words an error of the client for one line after "slotwire: ",
// with a hint for a refused token.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "slotwire: ")
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusUnauthorized {
		msg += " (check the API key or admin token: flag, environment or profile)"
	}
	return errors.New(msg)
}
