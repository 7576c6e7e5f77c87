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
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "slotwire:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `Slotwire: a self-hosted webhook engine for scheduling software.

Usage:
  slotwire serve [flags]            run the server (try: slotwire serve -h)
  slotwire tenant create --name N   create a tenant and print its API key
  slotwire migrate [--db ...]       apply database migrations
  slotwire bench [flags]            run the delivery benchmark
  slotwire version                  print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
