package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/slotwire/slotwire/internal/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var scen, jsonPath, pg, binary string
	var scale float64
	var pubs int
	fs.StringVar(&scen, "scenarios", "1,2,3,4,5", "comma-separated scenarios: 1 throughput, 2 latency, 3 isolation, 4 backlog, 5 fan-out, 6 PostgreSQL with 1-3 nodes, 7 hostile tenants and receivers, 8 CPU and WAL cost of a steady 200 events/s (PostgreSQL part needs --postgres), 9 statistics and archiving at 1,000,000 stored deliveries, 10 SQLite file size under a steady load with a 1-minute retention (10 minutes), 11 timers: lag at 10,000 due in one minute, and fired per second")
	fs.Float64Var(&scale, "scale", 1, "multiply every event count (0.1 for a quick run)")
	fs.IntVar(&pubs, "publishers", 32, "concurrent publishers (and raw-client workers)")
	fs.StringVar(&pg, "postgres", os.Getenv("SLOTWIRE_TEST_POSTGRES"), "PostgreSQL server URL for scenario 6 (1, 2 and 3 nodes); default $SLOTWIRE_TEST_POSTGRES")
	fs.StringVar(&binary, "binary", "", "slotwire binary to benchmark (default: this one), e.g. an older build to compare")
	fs.StringVar(&jsonPath, "json", "bench-result.json", "write results as JSON here (empty: don't)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var list []int
	for _, s := range strings.Split(scen, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--scenarios: %q is not a number", s)
		}
		list = append(list, n)
	}
	_, err := bench.Run(ctx, bench.Options{Binary: binary, Scenarios: list, Scale: scale, Publishers: pubs, Out: stdout, JSONPath: jsonPath, Postgres: pg})
	return err
}
