// Command slotwire is the Slotwire webhook engine: one binary that serves the
// API, stores events and delivers them.
//
//	slotwire serve              run the server (embedded SQLite by default)
//	slotwire tenant create      create a tenant and print its API key
//	slotwire migrate            apply database migrations
//	slotwire bench              run the delivery benchmark
//	slotwire version            print the version
package main

import (
	"context"
	"errors"
	"flag"
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

// usageError is a usage error with its explanation: exit status 2.
type usageError struct{ msg string }

func (u *usageError) Error() string        { return u.msg }
func (u *usageError) Is(target error) bool { return target == errUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseFlags parses a command's flags: -h is no error (errHelp, exit 0),
// any other error is a usage error the flag package explained already,
// and positional arguments are refused.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	case err != nil:
		return errUsage
	case fs.NArg() > 0:
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// errHelp: help was asked for and printed; exit status 0.
var errHelp = errors.New("help")

const usage = `Slotwire: a self-hosted webhook engine for scheduling software.

Usage:
  slotwire serve [flags]            run the server (try: slotwire serve -h)
  slotwire tenant create --name N   create a tenant and print its API key
  slotwire migrate [--db ...]       apply database migrations
  slotwire bench [flags]            run the delivery benchmark
  slotwire version                  print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := runCommand(ctx, args, stdout, stderr); err != errHelp {
		return err
	}
	return nil
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "tenant":
		return runTenant(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "slotwire", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
