package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// opsAge is how far back the scenario's deliveries go, and opsRetention
// the period past which they are archived: two thirds of them.
const (
	opsAge       = 90 * 24 * time.Hour
	opsRetention = 60 * 24 * time.Hour // a third of them
	opsEndpoints = 10
)

// operations (scenario 9) fills a SQLite file with 1,000,000 deliveries
// (× scale) over 90 days to 10 endpoints, through the store's own ingest
// and complete paths, then times GET /v1/stats and GET …/stats on a node
// serving that file, and the archiving pass of a 60-day retention.
func (b *bencher) operations(ctx context.Context) ([]Result, error) {
	n, err := b.startNode(ctx, "--retention", "0")
	if err != nil {
		return nil, err
	}
	dir, key := n.dir, n.key
	defer func() {
		if !b.o.KeepWorkDir {
			os.RemoveAll(dir)
		}
	}()
	var eps []string
	for i := range opsEndpoints {
		id, err := n.endpoint(fmt.Sprintf("http://127.0.0.1:9/%d", i), []string{fmt.Sprintf("ops.t%d", i)}, true)
		if err != nil {
			n.halt()
			return nil, err
		}
		eps = append(eps, id)
	}
	var tens struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	err = n.call("GET", "/v1/tenants", "bench", nil, &tens)
	n.halt()
	if err != nil || len(tens.Data) != 1 {
		return nil, fmt.Errorf("tenants: %v, %w", tens, err)
	}
	ten := tens.Data[0]
	total := b.n(1_000_000)
	now := time.Now()
	fillTook, err := fillOps(ctx, filepath.Join(dir, "bench.db"), ten.ID, eps, total, now)
	if err != nil {
		return nil, err
	}
	r := Result{Scenario: fmt.Sprintf("9 operations at %d deliveries", total), Metrics: map[string]float64{
		"fill_per_s": float64(total) / fillTook.Seconds(), "db_mib": fileMiB(dir)}}
	if err := b.timeStats(ctx, dir, key, eps[0], r.Metrics); err != nil {
		return nil, err
	}
	if err := timeArchive(ctx, filepath.Join(dir, "bench.db"), now, r.Metrics); err != nil {
		return nil, err
	}
	r.Metrics["db_mib_after"] = fileMiB(dir)
	r.Notes = "stats: GET over HTTP on a node serving the file; archive: 60-day retention over 90 days of deliveries, 500 per transaction"
	return []Result{r}, nil
}

// fillOps stores total events, each delivered to one endpoint: 95 %
// succeeded at once, 4 % failed, 1 % retrying, created evenly over opsAge.
func fillOps(ctx context.Context, path, tenantID string, eps []string, total int, now time.Time) (time.Duration, error) {
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true, Synchronous: "NORMAL"})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	began := time.Now()
	const batch = 1000
	for start := 0; start < total; start += batch {
		at := now.Add(-opsAge + time.Duration(float64(opsAge)*float64(start)/float64(total)))
		if err := fillBatch(ctx, db, tenantID, eps, start, min(batch, total-start), at); err != nil {
			return 0, err
		}
	}
	return time.Since(began), nil
}

func fillBatch(ctx context.Context, db store.Store, tenantID string, eps []string, start, n int, at time.Time) error {
	b := &store.IngestBatch{Now: at, IdempotencyWindow: time.Hour, Owner: "bench", LeaseUntil: at.Add(time.Hour)}
	for i := start; i < start+n; i++ {
		k := i % len(eps)
		e := &slotwire.Event{ID: slotwire.NewID(slotwire.PrefixEvent), TenantID: tenantID, Type: fmt.Sprintf("ops.t%d", k),
			Data: eventBody, CreatedAt: at}
		e.Payload = e.BuildPayload()
		ep := &slotwire.Endpoint{ID: eps[k], TenantID: tenantID, Enabled: true}
		b.Items = append(b.Items, &store.IngestItem{Event: e, Targets: []store.Target{{Endpoint: ep, Leased: true}}})
	}
	if err := db.Ingest(ctx, b); err != nil {
		return err
	}
	var outs []store.Outcome
	for i, it := range b.Items {
		j := it.Jobs[0]
		o := store.Outcome{DeliveryID: j.Delivery.ID, EndpointID: j.Delivery.EndpointID, Owner: "bench", TenantID: tenantID,
			CreatedAt: at, Status: slotwire.StatusSucceeded,
			Attempt: slotwire.Attempt{At: at.Add(50 * time.Millisecond), StatusCode: 200, DurationMS: int64(5 + (start+i)%200),
				ResponseBody: "ok", RequestHeaders: "Content-Type: application/json\nWebhook-Id: " + slotwire.HeaderText(j.Delivery.EventID) + "\n"}}
		switch (start + i) % 100 {
		case 0, 1, 2, 3:
			o.Status, o.Attempt.StatusCode, o.Attempt.Error = slotwire.StatusFailed, 500, "HTTP 500"
		case 4:
			o.Status, o.Attempt.StatusCode, o.NextAttemptAt = slotwire.StatusPending, 503, at.Add(opsAge)
		}
		outs = append(outs, o)
	}
	_, err := db.Complete(ctx, store.CompleteBatch{Outcomes: outs, Now: at})
	return err
}

// timeStats times the statistics routes on a node serving the file.
func (b *bencher) timeStats(ctx context.Context, dir, key, ep string, m map[string]float64) error {
	n, err := b.startNodeIn(ctx, dir, key, "--retention", "0")
	if err != nil {
		return err
	}
	defer n.halt()
	for name, path := range map[string]string{"stats_tenant": "/v1/stats", "stats_endpoint": "/v1/endpoints/" + ep + "/stats"} {
		var ds []float64
		for range 50 {
			began := time.Now()
			if err := n.call("GET", path, key, nil, nil); err != nil {
				return err
			}
			ds = append(ds, float64(time.Since(began).Microseconds())/1000)
		}
		slices.Sort(ds)
		m[name+"_p50_ms"], m[name+"_max_ms"] = ds[len(ds)/2], ds[len(ds)-1]
	}
	return nil
}

// timeArchive runs the archiving pass of a 60-day retention to its end.
func timeArchive(ctx context.Context, path string, now time.Time, m map[string]float64) error {
	db, err := sqlite.Open(ctx, path, sqlite.Options{Migrate: true})
	if err != nil {
		return err
	}
	defer db.Close()
	began := time.Now()
	var rows int
	var slowest time.Duration
	for {
		t := time.Now()
		r, err := db.Archive(ctx, now.Add(-opsRetention), now, 500)
		if err != nil {
			return err
		}
		slowest = max(slowest, time.Since(t))
		rows += r.Deliveries
		if !r.More {
			break
		}
	}
	took := time.Since(began)
	released, err := db.Compact(ctx)
	if err != nil {
		return err
	}
	m["archived"], m["archive_s"] = float64(rows), took.Seconds()
	m["archive_per_s"], m["archive_batch_max_ms"] = float64(rows)/took.Seconds(), float64(slowest.Microseconds())/1000
	m["compact_released_mib"] = float64(released) / (1 << 20)
	return nil
}

func fileMiB(dir string) float64 {
	var total int64
	for _, f := range []string{"bench.db", "bench.db-wal"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
			total += st.Size()
		}
	}
	return float64(total) / (1 << 20)
}
