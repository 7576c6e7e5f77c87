// Command slotwire is the Slotwire webhook engine: one binary that serves the
// API, stores events and delivers them, and the command line of its API.
//
//	slotwire serve              run the server (embedded SQLite by default)
//	slotwire migrate            apply database migrations
//	slotwire tenant create      create a tenant in the database and print its API key
//	slotwire healthcheck        check a node's /healthz (a container's HEALTHCHECK)
//	slotwire endpoints …        tenants, keys, endpoints, events, deliveries … through the API
//	slotwire verify             check a webhook's signature
//	slotwire completion bash    shell completion
//
// "slotwire help" lists every command; docs/cli.md describes them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// exitCode prints err and returns the exit status: 0 on success, 2 for a
// usage error, 1 for any other error.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintln(stderr, "slotwire:", err)
		}
		return 2
	}
	fmt.Fprintln(stderr, "slotwire:", err)
	return 1
}

// errUsage is a usage error whose explanation was printed already.
var errUsage = errors.New("usage")

// errHelp: help was asked for and printed; exit status 0.
var errHelp = errors.New("help")

// usageError is a usage error with its explanation: exit status 2.
type usageError struct{ msg string }

func (u *usageError) Error() string        { return u.msg }
func (u *usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run runs a command line with the process's standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, os.Stdin, stdout, stderr, os.Getenv)
}

// runWith runs a command line; getenv reads the environment.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "docs" {
		return docsCommand(args[1:], stdout)
	}
	hc, rec := newHTTP()
	defer hc.CloseIdleConnections()
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, rec: rec, http: hc, getenv: getenv}
	c.root = commandTree()
	cmd, rest, err := resolve(c.root, args, c)
	if err == nil {
		err = cmd.execute(c, rest)
	}
	if err == errHelp {
		return nil
	}
	return err
}
