package dispatch_test

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/dispatch"
	"github.com/slotwire/slotwire/internal/ingest"
	"github.com/slotwire/slotwire/internal/netguard"
	"github.com/slotwire/slotwire/internal/receiver"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlite"
)

// slowRecords is a real SQLite store whose outcome writes lag, as a busy
// database's would.
type slowRecords struct {
	*sqlite.DB
}

func (s slowRecords) Complete(ctx context.Context, b store.CompleteBatch) ([]store.EndpointTransition, error) {
	time.Sleep(time.Duration(len(b.Outcomes)) * 2 * time.Millisecond)
	return s.DB.Complete(ctx, b)
}

// sending counts the goroutines of requests started by the dispatcher and
// not yet handed to the recorder: those that would pile up if finished
// requests did not wait for the recorder. (The total count also moves with
// HTTP connections and the SQLite driver's per-statement goroutines, which
// vary with the machine's load.)
func sending() int {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	_, body, _ := strings.Cut(b.String(), "\n") // after "goroutine profile: total N"
	n := 0
	for _, rec := range strings.Split(body, "\n\n") {
		count, _, ok := strings.Cut(rec, " @ ")
		if k, err := strconv.Atoi(count); ok && err == nil && strings.Contains(rec, "dispatch.(*Dispatcher).send+") {
			n += k
		}
	}
	return n
}

// When outcomes cannot be written as fast as requests finish, lanes wait:
// finished requests never pile up in memory.
func TestBackpressureFromSlowRecording(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := slowRecords{db}
	rc := receiver.New(nil)
	defer rc.Close()
	now := time.Now()
	ten := &slotwire.Tenant{ID: slotwire.NewID(slotwire.PrefixTenant), Name: "A", Plan: "p", CreatedAt: now}
	if err := db.CreateTenant(ctx, ten, nil); err != nil {
		t.Fatal(err)
	}
	ep := &slotwire.Endpoint{ID: slotwire.NewID(slotwire.PrefixEndpoint), TenantID: ten.ID, URL: rc.URL, EventTypes: []string{"*"},
		Enabled: true, MaxConcurrency: 64, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	d := dispatch.New(dispatch.Config{Store: st, Guard: &netguard.Guard{AllowPrivate: true}, PollInterval: 50 * time.Millisecond, OutcomeBuffer: 64})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: st, Dispatcher: d})
	in.Start(ctx)
	base := sending()
	const n = 2000
	peak := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := 0; w < 20; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n/20; i++ {
					if _, err := in.Publish(ctx, &slotwire.Event{TenantID: ten.ID, Type: "x.y", Data: []byte(`{}`)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}()
	for !rc.WaitCount(n, 10*time.Millisecond) {
		peak = max(peak, sending()-base)
		select {
		case <-done:
		default:
		}
		if rc.Count() >= n {
			break
		}
	}
	<-done
	in.Stop()
	d.Stop()
	// At most the endpoint's 64 requests: not one per finished request.
	if peak > 64 {
		t.Fatalf("%d requests sending or waiting for the recorder at peak for %d deliveries, the bound is 64", peak, n)
	}
	t.Logf("peak requests sending or waiting: %d", peak)
}
