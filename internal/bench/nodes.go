package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create the bench database
)

// nodes: scenario 6, throughput of 1, 2 and 3 slotwire nodes sharing one
// PostgreSQL database (needs Options.Postgres).
func (b *bencher) nodes(ctx context.Context) ([]Result, error) {
	if b.o.Postgres == "" {
		return nil, fmt.Errorf("scenario 6 needs --postgres URL (scripts/with-postgres.sh sets $SLOTWIRE_TEST_POSTGRES)")
	}
	var out []Result
	count := b.n(30000)
	for n := 1; n <= 3; n++ {
		r, err := b.nodesRun(ctx, n, count)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (b *bencher) nodesRun(ctx context.Context, nodes, count int) (Result, error) {
	dsn, drop, err := freshDatabase(ctx, b.o.Postgres)
	if err != nil {
		return Result{}, err
	}
	defer drop()
	if out, err := exec.CommandContext(ctx, b.o.Binary, "migrate", "--db", dsn).CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("migrate: %v: %s", err, out)
	}
	rc, err := newRecv(false, false)
	if err != nil {
		return Result{}, err
	}
	defer rc.Close()
	var ns []*node
	defer func() {
		for _, n := range ns {
			n.halt()
		}
	}()
	for i := 0; i < nodes; i++ {
		key := ""
		if i > 0 {
			key = ns[0].key
		}
		n, err := b.startNodeIn(ctx, dsn, key, "--node-id", fmt.Sprintf("bench-%d", i))
		if err != nil {
			return Result{}, err
		}
		ns = append(ns, n)
	}
	if _, err := ns[0].endpoint(rc.URL(), []string{"*"}, true); err != nil {
		return Result{}, err
	}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < b.o.Publishers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n := ns[w%nodes]
			for int(next.Add(1)) <= count {
				body := []byte(`{"type":"booking.created","data":` + string(eventBody) + `}`)
				if _, err := postEvent(n.http, n.url, n.key, body); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}(w)
	}
	wg.Wait()
	pub := time.Since(start)
	if e, _ := firstErr.Load().(error); e != nil {
		return Result{}, e
	}
	end, ok := rc.waitCount(int64(count), 10*time.Minute)
	r := Result{Scenario: fmt.Sprintf("6 postgres %d node(s), %d events -> 1 endpoint", nodes, count), Metrics: map[string]float64{
		"accepted_per_s": float64(count) / pub.Seconds(), "deliveries_per_s": float64(rc.count.Load()) / end.Sub(start).Seconds(),
	}}
	if !ok {
		r.Notes = "timed out"
	}
	return r, nil
}

// freshDatabase creates a database on the server and returns its URL and a
// function that drops it.
func freshDatabase(ctx context.Context, server string) (string, func(), error) {
	adm, err := sql.Open("pgx", server)
	if err != nil {
		return "", nil, err
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	name := "swbench_" + hex.EncodeToString(rb[:])
	if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adm.Close()
		return "", nil, err
	}
	u, err := url.Parse(server)
	if err != nil {
		adm.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		adm.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		adm.Close()
	}, nil
}
