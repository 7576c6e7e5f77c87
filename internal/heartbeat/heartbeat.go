// Package heartbeat keeps a node's row in the registry of the nodes
// sharing the database (store.Nodes): written at start and every
// Interval with the deliveries in flight, removed on a clean stop. Rows
// of nodes silent for StaleAfter (a node that died) are removed by any
// node, at start and then hourly. One small write per interval: nothing on
// the delivery path waits for it.
package heartbeat

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Defaults.
const (
	DefaultInterval   = 10 * time.Second
	DefaultStaleAfter = 24 * time.Hour
	// pruneEvery is how often a node removes stale rows.
	pruneEvery = time.Hour
)

// Config of the service. Zero values take the defaults.
type Config struct {
	Store store.Nodes
	// Node is the node's row: ID, Role and Version (Host defaults to the
	// host name, StartedAt to the time of Start).
	Node store.NodeInfo
	// InFlight counts the deliveries being sent (nil: none, an API node).
	InFlight func() int
	// Interval between heartbeats (default 10 s).
	Interval time.Duration
	// StaleAfter: rows not written for that long are removed (default
	// 24 h).
	StaleAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service writes the heartbeats.
type Service struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// New returns a service that is not started.
func New(cfg Config) *Service {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InFlight == nil {
		cfg.InFlight = func() int { return 0 }
	}
	if cfg.Node.Host == "" {
		cfg.Node.Host, _ = os.Hostname()
	}
	return &Service{cfg: cfg, done: make(chan struct{})}
}

// Interval is the time between heartbeats.
func (s *Service) Interval() time.Duration { return s.cfg.Interval }

// Start writes the first heartbeat (a failure is logged, the next beat
// tries again), removes stale rows and beats every Interval until Stop.
func (s *Service) Start(ctx context.Context) {
	if s.cfg.Node.StartedAt.IsZero() {
		s.cfg.Node.StartedAt = s.cfg.Now()
	}
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.beat(ctx)
	s.prune(ctx)
	go s.loop(ctx)
}

func (s *Service) loop(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	lastPrune := s.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.beat(ctx)
		if now := s.cfg.Now(); now.Sub(lastPrune) >= pruneEvery {
			s.prune(ctx)
			lastPrune = now
		}
	}
}

func (s *Service) beat(ctx context.Context) {
	n := s.cfg.Node
	n.HeartbeatAt, n.InFlight = s.cfg.Now(), s.cfg.InFlight()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Interval)
	defer cancel()
	if err := s.cfg.Store.Heartbeat(ctx, n); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("node heartbeat", "err", err)
	}
}

func (s *Service) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Interval)
	defer cancel()
	n, err := s.cfg.Store.RemoveStaleNodes(ctx, s.cfg.Now().Add(-s.cfg.StaleAfter))
	switch {
	case err != nil && ctx.Err() == nil:
		s.cfg.Logger.Warn("removing stale nodes", "err", err)
	case n > 0:
		s.cfg.Logger.Info("removed nodes silent for too long", "nodes", n, "silent_for", s.cfg.StaleAfter.String())
	}
}

// Stop ends the heartbeats and removes the node's row (at most 5 s). It
// is safe to call more than once, and without Start.
func (s *Service) Stop() {
	s.once.Do(func() {
		if s.cancel == nil {
			return
		}
		s.cancel()
		<-s.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Store.RemoveNode(ctx, s.cfg.Node.ID); err != nil {
			s.cfg.Logger.Warn("removing the node's row", "err", err)
		}
	})
}
