package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnStdlibOnly: an application that imports the client pulls in
// nothing of the server (store, drivers, netguard …) and no third-party
// module.
func TestDependsOnStdlibOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/slotwire/slotwire/client" {
			t.Errorf("client depends on %s; it may import the standard library only", p)
		}
	}
}
