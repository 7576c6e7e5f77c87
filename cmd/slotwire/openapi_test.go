package main

import (
	"context"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/slotwire/slotwire/docs"
	"github.com/slotwire/slotwire/internal/server"
)

var placeholder = regexp.MustCompile(`\{[^}]*\}`)

// normRoute writes "METHOD /path/{x}" with every placeholder as {}.
func normRoute(method, path string) string {
	return strings.ToUpper(method) + " " + placeholder.ReplaceAllString(path, "{}")
}

// documentRoutes returns the operations of docs/openapi.yaml (the copy
// built into the binary), normalised.
func documentRoutes(t *testing.T) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out[normRoute(method, path)] = true
			}
		}
	}
	return out
}

// TestOpenAPIMatchesNodeRoutes: every route a node of this binary
// registers (core and scheduling module, as extensions() wires them) is in
// docs/openapi.yaml, and every operation there is registered.
func TestOpenAPIMatchesNodeRoutes(t *testing.T) {
	var cfg server.Config
	cfg.DB = filepath.Join(t.TempDir(), "slotwire.db")
	cfg.Addr = "127.0.0.1:0"
	cfg.Migrate = true
	cfg.Extensions, cfg.Modules = extensions(), modules()
	n, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	registered := map[string]bool{}
	for _, p := range n.API.Routes() {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method", p)
			continue
		}
		registered[normRoute(method, path)] = true
	}
	if !registered[normRoute("GET", "/v1/appointments")] {
		t.Fatal("the node has no scheduling routes; is the module still linked in extensions()?")
	}
	t.Logf("%d routes registered", len(registered))
	documented := documentRoutes(t)
	for _, r := range sortedSet(registered) {
		if !documented[r] {
			t.Errorf("%s is registered but missing from docs/openapi.yaml", r)
		}
	}
	for _, r := range sortedSet(documented) {
		if !registered[r] {
			t.Errorf("%s is in docs/openapi.yaml but no route of the node matches it", r)
		}
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
