package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// costRate and costDuration are scenario 8's steady load: 200 events/s for
// 30 s (times --scale) to one endpoint.
const (
	costRate     = 200
	costDuration = 30 * time.Second
)

// cost: scenario 8, what a steady low rate costs: CPU-seconds of the
// slotwire process and (on PostgreSQL) of the database server, and WAL
// bytes written per delivered event, on SQLite and on PostgreSQL.
func (b *bencher) cost(ctx context.Context) ([]Result, error) {
	var out []Result
	r, err := b.costRun(ctx, "")
	if err != nil {
		return nil, err
	}
	out = append(out, r)
	if b.o.Postgres == "" {
		return out, nil
	}
	dsn, drop, err := freshDatabase(ctx, b.o.Postgres)
	if err != nil {
		return out, err
	}
	defer drop()
	if out, err := exec.CommandContext(ctx, b.o.Binary, "migrate", "--db", dsn).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("migrate: %v: %s", err, out)
	}
	r, err = b.costRun(ctx, dsn)
	if err != nil {
		return out, err
	}
	return append(out, r), nil
}

// costRun runs the steady load on SQLite (dsn "") or on the PostgreSQL
// database dsn.
func (b *bencher) costRun(ctx context.Context, dsn string) (Result, error) {
	var n *node
	var err error
	name := "8 steady 200/s cost, SQLite"
	if dsn == "" {
		n, err = b.startNode(ctx)
	} else {
		name = "8 steady 200/s cost, PostgreSQL"
		n, err = b.startNodeIn(ctx, dsn, "")
	}
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	rc, err := newRecv(true, false)
	if err != nil {
		return Result{}, err
	}
	defer rc.Close()
	if _, err := n.endpoint(rc.URL(), []string{"*"}, true); err != nil {
		return Result{}, err
	}
	pg, err := openPGMeter(ctx, dsn)
	if err != nil {
		return Result{}, err
	}
	defer pg.close()
	time.Sleep(time.Second) // settle after start-up
	cpu0, pg0, wal0 := procCPU(n.cmd.Process.Pid, false), pg.cpu(), pg.wal(ctx)
	dur := time.Duration(float64(costDuration) * b.o.Scale)
	accepted, total, perr := steady(n, costRate, dur, func(int) string { return "booking.created" })
	_, ok := rc.waitCount(int64(len(accepted)), 30*time.Second)
	cpu1, pg1, wal1 := procCPU(n.cmd.Process.Pid, false), pg.cpu(), pg.wal(ctx)
	lat := latencies(rc, accepted)
	delivered := float64(rc.count.Load())
	res := Result{Scenario: name, Metrics: map[string]float64{
		"events": float64(total), "delivered": delivered, "rate_per_s": costRate, "seconds": dur.Seconds(),
		"cpu_slotwire_s": cpu1 - cpu0, "p50_ms": ms(percentile(lat, 0.50)), "p99_ms": ms(percentile(lat, 0.99)),
	}}
	if dsn != "" {
		res.Metrics["cpu_postgres_s"] = pg1 - pg0
		res.Metrics["cpu_total_s"] = cpu1 - cpu0 + pg1 - pg0
		if delivered > 0 {
			res.Metrics["wal_bytes_per_event"] = (wal1 - wal0) / delivered
		}
	}
	if perr != nil || !ok {
		res.Notes = fmt.Sprintf("publish error %v; all delivered: %v", perr, ok)
	}
	return res, nil
}

// clockTick is the kernel's USER_HZ, the unit of /proc/PID/stat times.
const clockTick = 100

// procCPU reads a process's user+system CPU-seconds from /proc; with
// children it adds those of its children that have ended (and been
// waited for).
func procCPU(pid int, children bool) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After "(comm) ": state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14.
	sum := 0.0
	n := 2
	if children {
		n = 4
	}
	for i := 0; i < n; i++ {
		v, _ := strconv.ParseFloat(f[11+i], 64)
		sum += v
	}
	return sum / clockTick
}

// pgMeter measures the PostgreSQL server: its postmaster's CPU with that
// of every backend (ended ones are in the postmaster's children times),
// and its WAL position.
type pgMeter struct {
	db         *sql.DB
	postmaster int
}

func openPGMeter(ctx context.Context, dsn string) (*pgMeter, error) {
	if dsn == "" {
		return &pgMeter{}, nil
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	var backend int
	if err := db.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		db.Close()
		return nil, err
	}
	return &pgMeter{db: db, postmaster: parentOf(backend)}, nil
}

func (m *pgMeter) close() {
	if m.db != nil {
		m.db.Close()
	}
}

// cpu is the server's CPU-seconds so far: the postmaster with its ended
// children, plus every live child.
func (m *pgMeter) cpu() float64 {
	if m.postmaster == 0 {
		return 0
	}
	sum := procCPU(m.postmaster, true)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if parentOf(pid) == m.postmaster {
			sum += procCPU(pid, false)
		}
	}
	return sum
}

// wal is the server's current WAL position in bytes.
func (m *pgMeter) wal(ctx context.Context) float64 {
	if m.db == nil {
		return 0
	}
	var lsn float64
	_ = m.db.QueryRowContext(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')`).Scan(&lsn)
	return lsn
}

func parentOf(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
