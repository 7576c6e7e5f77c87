// Package docs holds Slotwire's documentation. Its test keeps the documents
// in step with the code:
//
//   - docs/openapi.yaml lists exactly the routes of internal/api/routes.go, with the
//     same authentication (admin token, tenant key or none), besides the
//     scheduling module's (tag scheduling; checked against a node's routes
//     by cmd/slotwire/openapi_test.go);
//   - docs/openapi.yaml lints clean with Redocly CLI (lint_test.go);
//   - docs/api.md has a section for every route (and an example of each,
//     which cmd/slotwire/apidocs_test.go runs against a live node);
//   - docs/operations.md names every `slotwire serve` flag and its
//     environment variable (cmd/slotwire/serve.go);
//   - relative links in the Markdown documents point to files that exist.
//
// cmd/slotwire keeps docs/configuration.md (generated) and docs/deployment.md
// with the files of deploy/ and the Dockerfile in step with serve's flags.
//
// It uses only the standard library: the YAML is read line by line, which
// is enough for the paths/methods/security layout the document keeps.
package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Authentication kinds of a route.
const (
	authNone   = "none"
	authAdmin  = "admin"
	authTenant = "tenant"
)

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "options": true,
	"head": true, "patch": true, "trace": true,
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// codeRoutes returns "METHOD /path" -> auth kind for every route that
// internal/api/routes.go registers.
func codeRoutes(t *testing.T) map[string]string {
	t.Helper()
	src := readFile(t, filepath.Join("..", "internal", "api", "routes.go"))
	re := regexp.MustCompile(`(HandleAdmin|HandleTenant|handlePublish|handleFeed|HandleFunc|Handle)\(\s*"([A-Z]+) (/[^"]*)"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(src, -1) {
		auth := authNone
		switch m[1] {
		case "HandleAdmin":
			auth = authAdmin
		case "HandleTenant", "handlePublish", "handleFeed":
			auth = authTenant
		}
		out[m[2]+" "+m[3]] = auth
	}
	if len(out) == 0 {
		t.Fatal("found no routes in internal/api/routes.go; has the registration style changed?")
	}
	return out
}

// specRoutes returns "METHOD /path" -> auth kind for every operation in
// docs/openapi.yaml, and the operations of the scheduling module (tagged
// scheduling; cmd/slotwire/openapi_test.go checks those against a node). Path keys sit at an indent of 2 under the top-level
// "paths:", method keys at 4, an operation's "security:" at 6 and its
// entries at 8. The document's global security is the tenant key.
func specRoutes(t *testing.T) (map[string]string, map[string]bool) {
	t.Helper()
	f, err := os.Open("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, module := map[string]string{}, map[string]bool{}
	inPaths, inSecurity := false, false
	path, op := "", ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(strings.TrimLeft(line, " "), "\t") {
			t.Fatalf("openapi.yaml:%d: indented with a tab", n)
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 {
			inPaths = trimmed == "paths:"
			path, op, inSecurity = "", "", false
			continue
		}
		if !inPaths {
			continue
		}
		switch {
		case indent == 2:
			if !strings.HasSuffix(trimmed, ":") {
				t.Fatalf("openapi.yaml:%d: want a path key, got %q", n, trimmed)
			}
			path = strings.Trim(strings.TrimSuffix(trimmed, ":"), `"'`)
			op, inSecurity = "", false
		case indent == 4:
			key, _, _ := strings.Cut(trimmed, ":")
			op, inSecurity = "", false
			if httpMethods[key] {
				if path == "" {
					t.Fatalf("openapi.yaml:%d: method outside a path", n)
				}
				op = strings.ToUpper(key) + " " + path
				if _, dup := out[op]; dup {
					t.Fatalf("openapi.yaml:%d: %s listed twice", n, op)
				}
				out[op] = authTenant
			}
		case indent == 6 && op != "":
			inSecurity = false
			if trimmed == "tags: [scheduling]" {
				module[op] = true
			}
			if strings.HasPrefix(trimmed, "security:") {
				rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "security:"))
				switch rest {
				case "[]":
					out[op] = authNone
				case "":
					inSecurity = true
				default:
					t.Fatalf("openapi.yaml:%d: write security as a block list or []", n)
				}
			}
		case indent == 8 && inSecurity:
			switch {
			case strings.HasPrefix(trimmed, "- adminToken:"):
				out[op] = authAdmin
			case strings.HasPrefix(trimmed, "- tenantKey:"):
				out[op] = authTenant
			default:
				t.Fatalf("openapi.yaml:%d: unknown security requirement %q", n, trimmed)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("found no operations under paths: in openapi.yaml")
	}
	return out, module
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	code := codeRoutes(t)
	spec, module := specRoutes(t)
	for _, r := range sortedKeys(code) {
		auth, ok := spec[r]
		switch {
		case !ok:
			t.Errorf("%s is registered in internal/api/routes.go but missing from docs/openapi.yaml", r)
		case auth != code[r]:
			t.Errorf("%s: docs/openapi.yaml says %s authentication, internal/api/routes.go registers it as %s", r, auth, code[r])
		}
	}
	for _, r := range sortedKeys(spec) {
		if _, ok := code[r]; !ok && !module[r] {
			t.Errorf("%s is in docs/openapi.yaml but internal/api/routes.go does not register it", r)
		}
	}
}

func TestAPIReferenceCoversRoutes(t *testing.T) {
	doc := readFile(t, "api.md")
	for _, r := range sortedKeys(codeRoutes(t)) {
		if !strings.Contains(doc, "### `"+r+"`") {
			t.Errorf("docs/api.md has no section \"### `%s`\"", r)
		}
	}
	// The scheduling module's routes: a section, with an example, per group
	// (the first path segment after /v1/).
	_, module := specRoutes(t)
	for r := range module {
		_, path, _ := strings.Cut(r, " ")
		parts := strings.SplitN(strings.TrimPrefix(path, "/v1/"), "/", 2)
		heading := "### Scheduling: `/v1/" + parts[0] + "`"
		if !strings.Contains(doc, heading) {
			t.Errorf("docs/api.md has no section %q (for %s)", heading, r)
		}
	}
}

func TestOperationsCoversServeFlags(t *testing.T) {
	src := readFile(t, filepath.Join("..", "cmd", "slotwire", "serve.go"))
	doc := readFile(t, "operations.md")
	envFlag := regexp.MustCompile(`ef\.(?:String|Bool|Int|Duration|Var)\(&[^,]+,\s*"([a-z0-9-]+)",\s*"([A-Z0-9_]+)"`)
	varFlag := regexp.MustCompile(`fs\.Var\(&?[^,]+,\s*"([a-z0-9-]+)",\s*"[^"]*\(\$([A-Z0-9_]+)\)"`)
	found := 0
	for _, re := range []*regexp.Regexp{envFlag, varFlag} {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			found++
			flag, env := "--"+m[1], m[2]
			if !strings.Contains(doc, "`"+flag+"`") {
				t.Errorf("docs/operations.md does not mention the serve flag %s", flag)
			}
			if !strings.Contains(doc, "`"+env+"`") {
				t.Errorf("docs/operations.md does not mention %s (the variable of %s)", env, flag)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found only %d flags in cmd/slotwire/serve.go; has the registration style changed?", found)
	}
}

func TestMarkdownLinks(t *testing.T) {
	files := []string{"../README.md", "../ARCHITECTURE.md", "api.md", "signatures.md", "operations.md", "cli.md", "configuration.md", "deployment.md"}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		text := readFile(t, f)
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(filepath.Dir(f), filepath.FromSlash(target))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, m[1])
			}
		}
	}
}
