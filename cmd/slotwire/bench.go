package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/bench"
)

// benchDir holds the JSON results of `slotwire bench` by default, a file
// per run, so that runs never overwrite each other; git ignores it.
const benchDir = "bench-results"

func benchCmd() *command {
	return &command{name: "bench", usage: "[flags]", summary: "run the delivery benchmark",
		about: `Run the delivery benchmark: real slotwire processes, a receiver and a load generator on loopback
(docs/performance.md). It prints one line a scenario and writes the results as JSON to a new file
in bench-results/ (ignored by git), or to --json.`,
		example: `slotwire bench --scale 0.1
slotwire bench --scenarios 1 --binary ./slotwire-old --json old.json`,
		setup: runBench}
}

func runBench(fs *flag.FlagSet, c *cli) func([]string) error {
	var scen, pg, binary string
	var jsonPath benchJSON
	var scale float64
	var pubs int
	fs.StringVar(&scen, "scenarios", "1,2,3,4,5", "comma-separated scenarios: 1 throughput, 2 latency, 3 isolation, 4 backlog, 5 fan-out, 6 PostgreSQL with 1-3 nodes, 7 hostile tenants and receivers, 8 CPU and WAL cost of a steady 200 events/s (PostgreSQL part needs --postgres), 9 statistics and archiving at 1,000,000 stored deliveries, 10 SQLite file size under a steady load with a 1-minute retention (10 minutes), 11 timers: lag at 10,000 due in one minute, and fired per second")
	fs.Float64Var(&scale, "scale", 1, "multiply every event count (0.1 for a quick run)")
	fs.IntVar(&pubs, "publishers", 32, "concurrent publishers (and raw-client workers)")
	fs.StringVar(&pg, "postgres", os.Getenv("SLOTWIRE_TEST_POSTGRES"), "PostgreSQL server URL for scenario 6 (1, 2 and 3 nodes); default $SLOTWIRE_TEST_POSTGRES")
	fs.StringVar(&binary, "binary", "", "slotwire binary to benchmark (default: this one), e.g. an older build to compare")
	fs.Var(&jsonPath, "json", "write results as JSON to this file (empty: don't)")
	return func([]string) error {
		var list []int
		for _, s := range strings.Split(scen, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return usagef("--scenarios: %q is not a number", s)
			}
			list = append(list, n)
		}
		path := jsonPath.file(time.Now())
		if path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
		}
		_, err := bench.Run(c.ctx, bench.Options{Binary: binary, Scenarios: list, Scale: scale, Publishers: pubs, Out: c.stdout, JSONPath: path, Postgres: pg})
		if err == nil && path != "" {
			fmt.Fprintln(c.stdout, "results:", path)
		}
		return err
	}
}

// benchJSON is bench's --json: a file, none when set empty, and when not
// set a new file in bench-results/ named by the time of the run.
type benchJSON struct {
	path string
	set  bool
}

func (b *benchJSON) String() string {
	if b == nil || !b.set {
		return benchDir + "/bench-<UTC time>.json"
	}
	return b.path
}

func (b *benchJSON) Set(s string) error { b.path, b.set = s, true; return nil }
func (b *benchJSON) Type() string       { return "file" }

func (b *benchJSON) file(now time.Time) string {
	if b.set {
		return b.path
	}
	return filepath.Join(benchDir, "bench-"+now.UTC().Format("20060102-150405")+".json")
}
