package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigurationDocUpToDate: docs/configuration.md is what the
// generator writes from serve's flag table.
func TestConfigurationDocUpToDate(t *testing.T) {
	t.Parallel()
	have, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatalf("%v: run `go generate ./cmd/slotwire`", err)
	}
	if !bytes.Equal(have, configMarkdown()) {
		t.Fatal("docs/configuration.md is out of date: run `go generate ./cmd/slotwire` (or `go run ./cmd/slotwire docs config docs/configuration.md`)")
	}
	var out bytes.Buffer
	if err := runWith(context.Background(), []string{"docs", "config"}, strings.NewReader(""), &out, io.Discard, os.Getenv); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), have) {
		t.Fatal("slotwire docs config does not print docs/configuration.md")
	}
}

// TestServeFlagTable: every flag serve registers is in the table, once,
// with a group, a SLOTWIRE_ variable named in its help, and a default that
// parses as the flag's value.
func TestServeFlagTable(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	specs := serveFlags(fs).ef.specs
	byName := map[string]flagSpec{}
	for _, s := range specs {
		if _, dup := byName[s.Name]; dup {
			t.Errorf("--%s is in the table twice", s.Name)
		}
		byName[s.Name] = s
		if s.Group == "" || !strings.HasPrefix(s.Env, "SLOTWIRE_") || s.Usage == "" {
			t.Errorf("--%s: incomplete row %+v", s.Name, s)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		s, ok := byName[f.Name]
		switch {
		case !ok:
			t.Errorf("--%s is registered outside the table (use envFlags)", f.Name)
		case !strings.HasSuffix(f.Usage, "($"+s.Env+")"):
			t.Errorf("--%s: help %q does not name $%s", f.Name, f.Usage, s.Env)
		}
	})
	if n := len(specs); n < 20 {
		t.Fatalf("only %d flags in the table", n)
	}
	fresh := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fresh)
	for _, s := range specs {
		if s.Default == "" {
			continue
		}
		if err := fresh.Set(s.Name, s.Default); err != nil {
			t.Errorf("--%s: default %q does not parse: %v", s.Name, s.Default, err)
		}
	}
}
