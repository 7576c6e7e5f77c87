// Command gendocs writes docs/events.md from the scheduling event catalog:
//
//	go run ./internal/scheduling/cmd/gendocs            # from the repository root
//	go generate ./internal/scheduling                   # the same, through go:generate
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/slotwire/slotwire/internal/scheduling"
)

func main() {
	out := flag.String("o", "docs/events.md", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, scheduling.EventsMarkdown(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
