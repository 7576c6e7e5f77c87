package main

import (
	"flag"
	"strings"
	"testing"
)

// allCommands lists every command of the tree, groups included.
func allCommands() []*command {
	var out []*command
	var visit func(c *command)
	visit = func(c *command) {
		if c.parent != nil {
			out = append(out, c)
		}
		for _, s := range c.subs {
			visit(s)
		}
	}
	visit(commandTree())
	return out
}

// leafFlags lists a leaf's flag names.
func leafFlags(cmd *command) []string {
	fs, _ := cmd.flagSet(&cli{getenv: func(string) string { return "" }})
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	t.Parallel()
	for _, cmd := range allCommands() {
		args := append(strings.Fields(cmd.path()), "-h")
		r := cliCall{}.run(t, args...)
		if r.code != 0 || !strings.Contains(r.out, "Usage:\n  slotwire "+cmd.path()) || !strings.Contains(r.out, "Examples:\n  ") {
			t.Errorf("slotwire %s -h: exit %d, want 0, a usage line and examples:\n%s%s", cmd.path(), r.code, r.out, r.err)
		}
		if strings.Contains(r.out, "`") {
			t.Errorf("slotwire %s -h has a backtick:\n%s", cmd.path(), r.out)
		}
		for _, name := range leafFlags(cmd) {
			if len(cmd.subs) == 0 && !strings.Contains(r.out, "  --"+name) {
				t.Errorf("slotwire %s -h does not describe --%s", cmd.path(), name)
			}
		}
		if help := (cliCall{}).must(t, append([]string{"help"}, strings.Fields(cmd.path())...)...); help != r.out {
			t.Errorf("slotwire help %s differs from slotwire %s -h", cmd.path(), cmd.path())
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		if out := (cliCall{}).must(t, args...); !strings.Contains(out, "endpoints") || !strings.Contains(out, "verify") {
			t.Errorf("slotwire %s lists no commands:\n%s", args[0], out)
		}
	}
	if out := (cliCall{}).must(t, "help", "config"); !strings.Contains(out, "SLOTWIRE_CONFIG") || !strings.Contains(out, `"profiles"`) {
		t.Errorf("slotwire help config:\n%s", out)
	}
	if out := (cliCall{}).must(t, "--version"); !strings.HasPrefix(out, "slotwire ") {
		t.Errorf("slotwire --version: %q", out)
	}
}

// TestEveryCommandRefusesBadUsage: an unknown flag, a missing or a stray
// argument, a group without its command: exit 2 and one line saying what
// is wrong, before anything is done.
func TestEveryCommandRefusesBadUsage(t *testing.T) {
	t.Parallel()
	for _, cmd := range allCommands() {
		path := strings.Fields(cmd.path())
		if len(cmd.subs) > 0 {
			cliCall{}.want(t, 2, "Usage:\n  slotwire "+cmd.path()+" <command>", path...)
			cliCall{}.want(t, 2, `unknown command "`+cmd.path()+` nope"`, append(path, "nope")...)
			continue
		}
		cliCall{}.want(t, 2, cmd.path()+": flag provided but not defined: -no-such-flag", append(path, "--no-such-flag")...)
		switch {
		case cmd.nargs > 0:
			cliCall{}.want(t, 2, cmd.path()+": missing ", path...)
			extra := append(path, make([]string, cmd.nargs+1)...)
			for i := len(path); i < len(extra); i++ {
				extra[i] = "x"
			}
			cliCall{}.want(t, 2, cmd.path()+`: unexpected argument "x"`, extra...)
		case cmd.nargs == 0:
			cliCall{}.want(t, 2, cmd.path()+`: unexpected argument "stray"`, append(path, "stray")...)
		}
	}
	cliCall{}.want(t, 2, `unknown command "nope"`, "nope")
	cliCall{}.want(t, 2, `help: no command "endpoints nope"`, "help", "endpoints", "nope")
	cliCall{}.want(t, 2, `completion: no script for "tcsh"`, "completion", "tcsh")
}
