// Package maintenance runs the periodic work that one node does for all
// nodes sharing a database: today, returning deliveries whose lease ran
// out (their node died) to the queue. The node doing it is elected with
// the store's Locker; a store without one serves a single node, which is
// always the leader. Leadership moves to another node when the holder
// stops or dies (the lock goes with its database session).
package maintenance

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// LockName names the lock that elects the maintenance node.
const LockName = "slotwire:maintenance"

// Store is the part of the store maintenance works on.
type Store interface {
	ReclaimExpired(ctx context.Context, now time.Time) (int, error)
	store.Retention
	PruneStats(ctx context.Context, res string, before time.Time) (int, error)
}

// Config of a Service.
type Config struct {
	Store Store
	// Locker elects the leader among nodes; nil: this node is alone and
	// always the leader.
	Locker store.Locker
	Logger *slog.Logger
	Now    func() time.Time
	// Interval is how often the leader reclaims expired leases (default
	// 30 s).
	Interval time.Duration
	// ElectInterval is how often a node that does not lead tries to
	// become leader (default Interval): how soon another node takes over
	// when the leader dies.
	ElectInterval time.Duration
	// Retention archives deliveries and events created longer ago than
	// it, every Interval (0: never); DeleteAfter deletes archived ones
	// created longer ago than it (0: never).
	Retention, DeleteAfter time.Duration
	// Batch is how many deliveries one retention transaction handles
	// (default 500): deliveries wait at most that long for the database.
	Batch int
	// OnRetention is told what each retention run did (metrics).
	OnRetention func(RetentionRun)
}

// Service runs maintenance while this node is the leader.
type Service struct {
	cfg    Config
	leader atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	release func() // of the lock, while held; used by the loop only
}

// New returns a Service; call Start to run it.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.ElectInterval <= 0 {
		cfg.ElectInterval = cfg.Interval
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	return &Service{cfg: cfg, done: make(chan struct{})}
}

// Start runs the service until Stop or until ctx is cancelled. The first
// round (election, reclaim) runs at once.
func (s *Service) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
}

// Stop ends the service and gives up leadership.
func (s *Service) Stop() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
}

// Leader reports whether this node is the maintenance leader.
func (s *Service) Leader() bool { return s.leader.Load() }

func (s *Service) run(ctx context.Context) {
	defer close(s.done)
	defer s.resign()
	t := time.NewTicker(min(s.cfg.Interval, s.cfg.ElectInterval))
	defer t.Stop()
	var last time.Time // of the last reclaim
	for {
		if now := s.cfg.Now(); s.elect(ctx) && now.Sub(last) >= s.cfg.Interval {
			last = now
			s.reclaim(ctx, now)
			s.retain(ctx, now)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// elect reports whether this node leads, trying to take the lock if it
// does not yet.
func (s *Service) elect(ctx context.Context) bool {
	if s.cfg.Locker == nil || s.release != nil {
		s.leader.Store(true)
		return true
	}
	release, got, err := s.cfg.Locker.TryLock(ctx, LockName)
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Warn("maintenance lock", "err", err)
		}
		return false
	}
	if got {
		s.release = release
		s.leader.Store(true)
		s.cfg.Logger.Info("this node does periodic maintenance")
	}
	return got
}

func (s *Service) resign() {
	s.leader.Store(false)
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// reclaim returns deliveries whose lease ran out to the queue.
func (s *Service) reclaim(ctx context.Context, now time.Time) {
	n, err := s.cfg.Store.ReclaimExpired(ctx, now)
	switch {
	case err != nil && ctx.Err() == nil:
		s.cfg.Logger.Error("reclaim expired leases", "err", err)
	case n > 0:
		s.cfg.Logger.Info("reclaimed expired leases", "deliveries", n)
	}
}
