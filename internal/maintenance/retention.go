package maintenance

import (
	"context"
	"log/slog"
	"time"

	"github.com/slotwire/slotwire/internal/stats"
	"github.com/slotwire/slotwire/internal/store"
)

// RetentionRun is what one retention run did.
type RetentionRun struct {
	Archived, Expired, ArchivedEvents int
	Deleted, DeletedEvents            int
	// Released is the bytes of file given back (SQLite).
	Released int64
	Took     time.Duration
	Err      error
}

// retain runs retention: archiving, deleting, giving space back, and
// pruning old statistics buckets. Each step is a series of bounded
// transactions, so deliveries are never held up for long; a run stops
// after Interval and the next goes on (the store remembers where).
func (s *Service) retain(ctx context.Context, now time.Time) {
	s.pruneStats(ctx, now)
	if s.cfg.Retention <= 0 && s.cfg.DeleteAfter <= 0 {
		return
	}
	began := time.Now()
	deadline := began.Add(s.cfg.Interval)
	var run RetentionRun
	// Rows are archived before they are deleted: with only DeleteAfter,
	// archiving follows it.
	archiveAfter := s.cfg.Retention
	if archiveAfter <= 0 {
		archiveAfter = s.cfg.DeleteAfter
	}
	run.Err = s.archive(ctx, now.Add(-archiveAfter), now, deadline, &run)
	if s.cfg.DeleteAfter > 0 && run.Err == nil {
		run.Err = s.purge(ctx, now, deadline, &run)
	}
	if run.Err == nil && run.Archived+run.ArchivedEvents+run.Deleted+run.DeletedEvents > 0 {
		run.Released, run.Err = s.cfg.Store.Compact(ctx)
	}
	run.Took = time.Since(began)
	s.report(ctx, run)
}

func (s *Service) archive(ctx context.Context, before, now, deadline time.Time, run *RetentionRun) error {
	for time.Now().Before(deadline) {
		r, err := s.cfg.Store.Archive(ctx, before, now, s.cfg.Batch)
		if err != nil {
			return err
		}
		run.Archived, run.Expired, run.ArchivedEvents = run.Archived+r.Deliveries, run.Expired+r.Expired, run.ArchivedEvents+r.Events
		if !r.More {
			return nil
		}
	}
	return nil
}

func (s *Service) purge(ctx context.Context, now, deadline time.Time, run *RetentionRun) error {
	before := now.Add(-s.cfg.DeleteAfter)
	for time.Now().Before(deadline) {
		r, err := s.cfg.Store.Purge(ctx, before, s.cfg.Batch)
		if err != nil {
			return err
		}
		run.Deleted, run.DeletedEvents = run.Deleted+r.Deliveries, run.DeletedEvents+r.Events
		if !r.More {
			return nil
		}
	}
	return nil
}

func (s *Service) report(ctx context.Context, run RetentionRun) {
	if s.cfg.OnRetention != nil {
		s.cfg.OnRetention(run)
	}
	attrs := []slog.Attr{slog.Int("archived", run.Archived), slog.Int("expired", run.Expired),
		slog.Int("archived_events", run.ArchivedEvents), slog.Int("deleted", run.Deleted),
		slog.Int("deleted_events", run.DeletedEvents), slog.Int64("released_bytes", run.Released),
		slog.Duration("took", run.Took)}
	switch {
	case run.Err != nil && ctx.Err() == nil:
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "retention", append(attrs, slog.String("err", run.Err.Error()))...)
	case run.Archived+run.ArchivedEvents+run.Deleted+run.DeletedEvents > 0:
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "retention", attrs...)
	}
}

// pruneStats drops statistics buckets older than they are kept.
func (s *Service) pruneStats(ctx context.Context, now time.Time) {
	for res, keep := range map[string]time.Duration{stats.Minute: stats.MinuteKeep, stats.Hour: stats.HourKeep} {
		if _, err := s.cfg.Store.PruneStats(ctx, res, now.Add(-keep)); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("prune statistics", "err", err)
		}
	}
}

// Every store can be maintained.
var _ Store = store.Store(nil)
