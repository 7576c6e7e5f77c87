package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsDescribeEveryCommand: docs/cli.md has a section for every command
// that names each of its flags, and the Commands section of
// docs/operations.md lists every command with an example.
func TestDocsDescribeEveryCommand(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cliDoc, ops := read("cli.md"), read("operations.md")
	commands := ops[strings.Index(ops, "\n## Commands\n"):]
	commands = commands[:strings.Index(commands[1:], "\n## ")+1]
	for _, cmd := range allCommands() {
		if len(cmd.subs) > 0 {
			continue
		}
		heading := "\n### `slotwire " + cmd.path() + "`\n"
		i := strings.Index(cliDoc, heading)
		if i < 0 {
			t.Errorf("docs/cli.md has no section %q", strings.TrimSpace(heading))
			continue
		}
		section := cliDoc[i+len(heading):]
		if j := strings.Index(section, "\n#"); j >= 0 {
			section = section[:j]
		}
		if !strings.Contains(section, "```sh\nslotwire "+cmd.path()) && !strings.Contains(section, "\nslotwire "+cmd.path()) {
			t.Errorf("docs/cli.md: the section of slotwire %s has no example", cmd.path())
		}
		for _, f := range leafFlags(cmd) {
			switch {
			case commonFlags[f] && cmd.conn != connNone, f == "json" && cmd.conn != connNone:
			case cmd.path() == "serve":
				if !strings.Contains(section, "operations.md#slotwire-serve") {
					t.Errorf("docs/cli.md: serve links no flag table")
				}
			case !strings.Contains(section, "`--"+f+"`"):
				t.Errorf("docs/cli.md: the section of slotwire %s does not name --%s", cmd.path(), f)
			}
		}
		row := ""
		for _, line := range strings.Split(commands, "\n") {
			if strings.HasPrefix(line, "| `slotwire "+cmd.path()+"` |") {
				row = line
			}
		}
		if strings.Count(row, "slotwire "+cmd.path()) < 2 {
			t.Errorf("docs/operations.md: Commands does not list slotwire %s with an example (%q)", cmd.path(), row)
		}
	}
}
