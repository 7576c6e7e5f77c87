package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestOpenAPILint has an independent OpenAPI 3.1 validator, Redocly CLI
// (npm @redocly/cli, docs/lint/package.json), lint docs/openapi.yaml with
// its recommended rules: any error fails the test; warnings are logged. The
// test command installs it (make test, scripts/test-deps.sh); run
// `npm install --prefix docs/lint` by hand otherwise. Set
// SLOTWIRE_REQUIRE_NPM=1 to fail rather than skip when it is missing.
func TestOpenAPILint(t *testing.T) {
	t.Parallel()
	dir := "lint"
	cli := filepath.Join("node_modules", "@redocly", "cli", "bin", "cli.js")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, cli))
	if err != nil || modErr != nil {
		if os.Getenv("SLOTWIRE_REQUIRE_NPM") != "" {
			t.Fatalf("node or the @redocly/cli package is missing (node: %v, module: %v)", err, modErr)
		}
		t.Skip("node or @redocly/cli not installed; run make test")
	}
	cmd := exec.Command(node, cli, "lint", "--format=stylish", filepath.Join("..", "openapi.yaml"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint docs/openapi.yaml: %v\n%s", err, out)
	}
	warnings := regexp.MustCompile(`(?m)^\s*\d+:\d+\s+warning`).FindAll(out, -1)
	t.Logf("redocly lint: no errors, %d warnings", len(warnings))
}
