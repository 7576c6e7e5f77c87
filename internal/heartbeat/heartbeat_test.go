package heartbeat

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// fakeNodes records what the service writes.
type fakeNodes struct {
	mu      sync.Mutex
	beats   []store.NodeInfo
	removed []string
	pruned  []time.Time
}

func (f *fakeNodes) Heartbeat(_ context.Context, n store.NodeInfo) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beats = append(f.beats, n)
	return nil
}

func (f *fakeNodes) ListNodes(context.Context) ([]store.NodeInfo, error) { return nil, nil }

func (f *fakeNodes) RemoveNode(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

func (f *fakeNodes) RemoveStaleNodes(_ context.Context, before time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruned = append(f.pruned, before)
	return 0, nil
}

func (f *fakeNodes) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.beats)
}

// TestBeats: the first beat is written before Start returns, with the
// node's fields and in-flight count; stale rows are removed at start;
// beats follow every interval; Stop removes the row, once.
func TestBeats(t *testing.T) {
	f := &fakeNodes{}
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s := New(Config{Store: f, Node: store.NodeInfo{ID: "n1", Role: "worker", Version: "v9"},
		InFlight: func() int { return 7 }, Interval: 5 * time.Millisecond, Now: func() time.Time { return now }})
	s.Start(context.Background())
	if f.count() != 1 {
		t.Fatalf("beats after Start = %d, want 1", f.count())
	}
	b := f.beats[0]
	if b.ID != "n1" || b.Role != "worker" || b.Version != "v9" || b.InFlight != 7 || !b.StartedAt.Equal(now) ||
		!b.HeartbeatAt.Equal(now) || b.Host == "" {
		t.Fatalf("first beat = %+v", b)
	}
	if len(f.pruned) != 1 || !f.pruned[0].Equal(now.Add(-DefaultStaleAfter)) {
		t.Fatalf("pruned = %v", f.pruned)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f.count() < 3 {
		t.Fatalf("beats after a while = %d", f.count())
	}
	s.Stop()
	s.Stop()
	n := f.count()
	time.Sleep(20 * time.Millisecond)
	if f.count() != n || len(f.removed) != 1 || f.removed[0] != "n1" {
		t.Fatalf("after Stop: %d → %d beats, removed %v", n, f.count(), f.removed)
	}
}

// TestStopWithoutStart: nothing is written.
func TestStopWithoutStart(t *testing.T) {
	f := &fakeNodes{}
	New(Config{Store: f, Node: store.NodeInfo{ID: "n1"}}).Stop()
	if f.count() != 0 || len(f.removed) != 0 {
		t.Fatalf("wrote %+v", f)
	}
}
