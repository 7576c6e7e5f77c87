package scheduling_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Scheduling reads go through the store's reader pool: a GET answers while
// another write transaction is open (on SQLite, while the write lock is
// held), and sees only committed data.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create(t, "/v1/resources", map[string]any{"name": "Room 1", "kind": "room"})
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := e.db.Write(context.Background(), func(ctx context.Context, tx store.WriteTx) error {
			_, err := tx.ExecContext(ctx, tx.Dialect().Rebind(`UPDATE sched_resources SET name = ? WHERE id = ?`), "Held", id)
			close(holding)
			<-release
			return err
		})
		done <- err
	}()
	<-holding
	got := make(chan resp, 1)
	go func() { got <- e.do(t, "GET", "/v1/resources/"+id, nil) }()
	select {
	case r := <-got:
		close(release)
		if r.status != http.StatusOK || r.obj()["name"] != "Room 1" {
			t.Fatalf("GET while a write is open: %d %s", r.status, r.body)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("GET waited for the open write transaction")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
