//go:build postgres

package scheduling_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/pgtest"
	"github.com/slotwire/slotwire/internal/scheduling"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/postgres"
)

// With -tags postgres the whole suite runs on PostgreSQL, one fresh
// database per test, on the server named by SLOTWIRE_TEST_POSTGRES:
//
//	bash scripts/with-postgres.sh go test -race -tags postgres ./internal/scheduling/
func init() {
	openStore = func(t *testing.T) testStore {
		t.Helper()
		url := pgtest.Database(t)
		db, err := postgres.Open(context.Background(), url, postgres.Options{Migrate: true, MaxConns: 4, Modules: []store.Module{scheduling.Module}})
		if err != nil {
			t.Fatal(err)
		}
		pgURLs.Store(t.Name(), url)
		return db
	}
}

// pgURLs are the databases of the tests, by test name.
var pgURLs sync.Map

// Two nodes (two stores on one database) firing the same due timers at
// once fire each exactly once.
func TestTimersTwoNodesPostgres(t *testing.T) {
	e := newEnv(t)
	f := e.fixture(t)
	e.must(t, http.StatusOK, "PUT", "/v1/notification-settings", map[string]any{"ended": []string{}})
	for i := 0; i < 60; i++ {
		e.book(t, at(1, float64(i)/6), at(1, float64(i)/6+0.1), f.person)
	}
	url, _ := pgURLs.Load(t.Name())
	other, err := postgres.Open(context.Background(), url.(string), postgres.Options{MaxConns: 4, Modules: []store.Module{scheduling.Module}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := func() time.Time { return time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC) }
	nodes := []*scheduling.Service{scheduling.New(scheduling.Config{Store: e.db, Now: now}), scheduling.New(scheduling.Config{Store: other, Now: now})}
	var wg sync.WaitGroup
	fired := make([]int, 2)
	start := make(chan struct{})
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				k, err := n.FireDue(context.Background(), 2)
				if err != nil {
					t.Error(err)
					return
				}
				fired[i] += k
				if k == 0 {
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if fired[0]+fired[1] != 60 || e.countEvents(t, scheduling.TypeStarting) != 60 {
		t.Fatalf("fired %v, %d events", fired, e.countEvents(t, scheduling.TypeStarting))
	}
	t.Logf("node 1 fired %d, node 2 fired %d", fired[0], fired[1])
}
