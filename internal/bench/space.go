package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// spaceDuration is how long scenario 10 loads (× scale), spaceRate its
// events per second, spaceSample how often it reads the file's size.
const (
	spaceDuration = 10 * time.Minute
	spaceRate     = 200
	spaceSample   = 30 * time.Second
)

// space (scenario 10) runs a steady load against two SQLite nodes side by
// side, both with --retention 1m, one also with --delete-after 2m, and
// reads their files' sizes (database and WAL) as it goes: with retention
// applying, the file must level off.
func (b *bencher) space(ctx context.Context) ([]Result, error) {
	variants := []struct {
		name  string
		flags []string
	}{
		{"10 file size, --retention 1m", []string{"--retention", "1m"}},
		{"10 file size, --retention 1m --delete-after 2m", []string{"--retention", "1m", "--delete-after", "2m"}},
	}
	dur := time.Duration(float64(spaceDuration) * b.o.Scale)
	out := make([]Result, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = b.spaceRun(ctx, v.name, v.flags, dur)
		}()
	}
	if b.o.Postgres != "" {
		wg.Add(1)
		out, errs = append(out, Result{}), append(errs, nil)
		go func() {
			defer wg.Done()
			out[len(out)-1], errs[len(errs)-1] = b.spacePostgres(ctx, dur)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// spacePostgres runs the same load on a fresh PostgreSQL database with
// --retention 1m --delete-after 2m and reads the database's size.
func (b *bencher) spacePostgres(ctx context.Context, dur time.Duration) (Result, error) {
	dsn, drop, err := freshDatabase(ctx, b.o.Postgres)
	if err != nil {
		return Result{}, err
	}
	defer drop()
	if out, err := exec.CommandContext(ctx, b.o.Binary, "migrate", "--db", dsn).CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("migrate: %v: %s", err, out)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	size := func() float64 {
		var n int64
		_ = db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
		return float64(n) / (1 << 20)
	}
	return b.spaceLoad(ctx, "10 database size, PostgreSQL, --retention 1m --delete-after 2m", dsn,
		[]string{"--retention", "1m", "--delete-after", "2m"}, dur, size)
}

func (b *bencher) spaceRun(ctx context.Context, name string, flags []string, dur time.Duration) (Result, error) {
	return b.spaceLoad(ctx, name, "", flags, dur, nil)
}

// spaceLoad runs the steady load on a node (SQLite when dsn is empty)
// and samples size (the SQLite file and its WAL by default).
func (b *bencher) spaceLoad(ctx context.Context, name, dsn string, flags []string, dur time.Duration, size func() float64) (Result, error) {
	var n *node
	var err error
	if dsn == "" {
		n, err = b.startNode(ctx, flags...)
	} else {
		n, err = b.startNodeIn(ctx, dsn, "", flags...)
	}
	if err != nil {
		return Result{}, err
	}
	defer n.stop()
	if size == nil {
		size = func() float64 { return fileMiB(n.dir) }
	}
	rc, err := newRecv(false, false)
	if err != nil {
		return Result{}, err
	}
	defer rc.Close()
	if _, err := n.endpoint(rc.URL(), []string{"*"}, true); err != nil {
		return Result{}, err
	}
	m := map[string]float64{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for t := spaceSample; t <= dur; t += spaceSample {
			time.Sleep(spaceSample)
			m[fmt.Sprintf("mib_at_%03ds", int(t.Seconds()))] = size()
		}
	}()
	_, total, perr := steady(n, spaceRate, dur, func(int) string { return "booking.created" })
	<-done
	m["events"], m["delivered"] = float64(total), float64(rc.count.Load())
	r := Result{Scenario: name, Metrics: m}
	if perr != nil {
		r.Notes = "publish error: " + perr.Error()
	}
	return r, nil
}
