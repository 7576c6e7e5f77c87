package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// command is a node of the command tree: a group of subcommands, or a leaf
// that runs. Help, usage errors and shell completion are all made from
// the tree.
type command struct {
	name    string
	aliases []string
	// usage follows the command's path in its usage line ("ID",
	// "--url URL --types T,… [flags]").
	usage string
	// nargs is how many positional arguments a leaf takes (-1: any).
	nargs   int
	summary string // one line, for lists
	about   string // help text; the summary when empty
	example string // example lines, without "slotwire " at the start of a line
	conn    connKind
	json    bool   // takes --json
	section string // heading of the root's list it is listed under
	choices string // the words a leaf's argument may be, for completion
	// setup registers a leaf's own flags and returns what runs it.
	setup  func(fs *flag.FlagSet, c *cli) func(args []string) error
	subs   []*command
	parent *command
}

// connKind is which connection flags a leaf takes.
type connKind int

const (
	connNone   connKind = iota
	connTenant          // --url, --api-key, --profile
	connAdmin           // --url, --admin-token, --profile
)

// cli is what a running command works with.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	conn           connFlags
	json           bool
	rec            *recorder
	http           *http.Client
	getenv         func(string) string
	root           *command
}

func (cmd *command) path() string {
	if cmd.parent == nil || cmd.parent.parent == nil {
		return cmd.name
	}
	return cmd.parent.path() + " " + cmd.name
}

func (cmd *command) find(name string) *command {
	for _, s := range cmd.subs {
		if s.name == name {
			return s
		}
		for _, a := range s.aliases {
			if a == name {
				return s
			}
		}
	}
	return nil
}

// link sets the parents of the tree.
func (cmd *command) link() *command {
	for _, s := range cmd.subs {
		s.parent = cmd
		s.link()
	}
	return cmd
}

// resolve walks args down the tree to a leaf; a group without a
// subcommand, or with an unknown one, is a usage error.
func resolve(root *command, args []string, c *cli) (*command, []string, error) {
	args, globals := hoistGlobals(args)
	cmd, rest, err := walk(root, args, c)
	return cmd, append(rest, globals...), err
}

// hoistGlobals takes the connection flags and --json given before the
// command ("slotwire --profile prod endpoints list"), for the leaf.
func hoistGlobals(args []string) (rest, globals []string) {
	for len(args) > 0 {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		switch {
		case !strings.HasPrefix(args[0], "-"):
			return args, globals
		case name == "json":
			globals, args = append(globals, args[0]), args[1:]
		case commonFlags[name] && (hasValue || len(args) == 1):
			globals, args = append(globals, args[0]), args[1:]
		case commonFlags[name]:
			globals, args = append(globals, args[0], args[1]), args[2:]
		default:
			return args, globals
		}
	}
	return args, globals
}

func walk(root *command, args []string, c *cli) (*command, []string, error) {
	cmd := root
	for len(cmd.subs) > 0 {
		if len(args) == 0 {
			cmd.printHelp(c.stderr)
			return nil, nil, errUsage
		}
		switch args[0] {
		case "-h", "--help":
			cmd.printHelp(c.stdout)
			return nil, nil, errHelp
		case "help":
			return nil, nil, c.help(cmd, args[1:])
		}
		sub := cmd.find(args[0])
		if sub == nil {
			fmt.Fprintf(c.stderr, "slotwire: unknown command %q\n\n", words(cmd.path(), args[0]))
			cmd.printHelp(c.stderr)
			return nil, nil, errUsage
		}
		cmd, args = sub, args[1:]
	}
	return cmd, args, nil
}

// flagSet is a leaf's flags: its own, then the connection flags and --json.
func (cmd *command) flagSet(c *cli) (*flag.FlagSet, func([]string) error) {
	fs := flag.NewFlagSet("slotwire "+cmd.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var run func([]string) error
	if cmd.setup != nil {
		run = cmd.setup(fs, c)
	}
	c.addConnFlags(fs, cmd.conn)
	switch {
	case cmd.json && cmd.conn != connNone:
		fs.BoolVar(&c.json, "json", false, "print the API's JSON answer, one document")
	case cmd.json:
		fs.BoolVar(&c.json, "json", false, "print the result as JSON, one document")
	}
	return fs, run
}

// execute parses a leaf's flags, anywhere among its arguments, and runs it.
func (cmd *command) execute(c *cli, args []string) error {
	fs, run := cmd.flagSet(c)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		cmd.printHelp(c.stdout)
		return errHelp
	case err != nil:
		return usagef("%s: %v (see slotwire %s -h)", cmd.path(), err, cmd.path())
	case cmd.nargs >= 0 && len(pos) > cmd.nargs:
		return usagef("%s: unexpected argument %q (usage: slotwire %s %s)", cmd.path(), pos[cmd.nargs], cmd.path(), cmd.usage)
	case cmd.nargs >= 0 && len(pos) < cmd.nargs:
		return usagef("%s: missing %s (usage: slotwire %s %s)", cmd.path(), cmd.missingArg(len(pos)), cmd.path(), cmd.usage)
	}
	return run(pos)
}

// missingArg names the first positional argument not given.
func (cmd *command) missingArg(given int) string {
	var names []string
	for _, f := range strings.Fields(cmd.usage) {
		if !strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "[") && strings.ToUpper(f) == f {
			names = append(names, f)
		}
	}
	if given < len(names) {
		return names[given]
	}
	return "an argument"
}

// parseInterspersed parses flags given before, between or after the
// positional arguments ("endpoints show ep_1 --json"); "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// printHelp writes a command's help: what it does, its usage, its
// subcommands or flags, and examples.
func (cmd *command) printHelp(w io.Writer) {
	about := cmd.about
	if about == "" {
		about = cmd.summary
	}
	if about != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(about))
	}
	fmt.Fprintln(w, "Usage:")
	switch {
	case cmd.parent == nil:
		fmt.Fprintln(w, "  slotwire <command> [flags]")
	case len(cmd.subs) > 0:
		fmt.Fprintf(w, "  slotwire %s <command> [flags]\n", cmd.path())
	default:
		fmt.Fprintf(w, "  %s\n", words("slotwire", cmd.path(), cmd.usage))
	}
	if len(cmd.subs) > 0 {
		cmd.printSubs(w)
	} else {
		cmd.printLeafFlags(w)
	}
	if cmd.example != "" {
		fmt.Fprintln(w, "\nExamples:")
		for _, line := range strings.Split(strings.TrimSpace(cmd.example), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if len(cmd.subs) > 0 {
		fmt.Fprintf(w, "\nRun %q for the flags of a command.\n", words("slotwire", cmd.path(), "<command> -h"))
	}
}

func (cmd *command) printSubs(w io.Writer) {
	width, section := 0, "\x00"
	for _, s := range cmd.subs {
		width = max(width, len(s.name))
	}
	for _, s := range cmd.subs {
		if s.section != section {
			section = s.section
			fmt.Fprintf(w, "\n%s:\n", cmp.Or(section, "Commands"))
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
	}
}

// help prints the help of the command at path under cmd ("help endpoints
// create"), or of a topic ("help config").
func (c *cli) help(cmd *command, path []string) error {
	for _, name := range path {
		if cmd == c.root && name == "config" {
			fmt.Fprint(c.stdout, configHelp)
			return errHelp
		}
		sub := cmd.find(name)
		if sub == nil {
			return usagef("help: no command %q", words(cmd.path(), name))
		}
		cmd = sub
	}
	cmd.printHelp(c.stdout)
	return errHelp
}

func (cmd *command) printLeafFlags(w io.Writer) {
	fs, _ := cmd.flagSet(&cli{getenv: func(string) string { return "" }})
	var own, common []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if commonFlags[f.Name] && cmd.conn != connNone || f.Name == "json" {
			common = append(common, f)
		} else {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, own)
	}
	switch {
	case len(common) > 0 && cmd.conn != connNone:
		fmt.Fprintln(w, "\nConnection and output (flag, else environment, else profile; see slotwire help config):")
		printFlags(w, common)
	case len(common) > 0:
		fmt.Fprintln(w, "\nOutput:")
		printFlags(w, common)
	}
}

// commonFlags are the connection flags every API command takes.
var commonFlags = map[string]bool{"url": true, "api-key": true, "admin-token": true, "profile": true}

// secretFlags never show their value (which may come from the
// environment) as a default in help: tokens, and a URL that may carry a
// password.
var secretFlags = map[string]bool{"api-key": true, "admin-token": true, "smtp-url": true}

// printFlags writes flags as the flag package does, with two dashes, the
// argument's type (durations included) and defaults other than zero.
func printFlags(w io.Writer, flags []*flag.Flag) {
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		if t, ok := f.Value.(interface{ Type() string }); ok {
			arg = t.Type()
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch def := f.DefValue; {
		case secretFlags[f.Name], def == "", def == "0", def == "false", def == "0s":
		case arg == "string":
			fmt.Fprintf(w, " (default %q)", def)
		default:
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	}
}

// words joins the words of its arguments with single spaces.
func words(parts ...string) string {
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}
