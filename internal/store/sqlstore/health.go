package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// Complete records b's outcomes with the driver's RecordTx (one transaction,
// retried on conflicts: recording is idempotent, stale outcomes change
// nothing), counts in the statistics those that moved their delivery (not a
// stale one whose lease passed to another node, nor one of an endpoint
// deleted meanwhile), and applies their health in the same transaction.
func (db *DB) Complete(ctx context.Context, b store.CompleteBatch) ([]store.EndpointTransition, error) {
	var trans []store.EndpointTransition
	err := db.InTxRetry(ctx, func(tx *sql.Tx) error {
		applied, err := db.RecordTx(ctx, tx, b)
		if err != nil {
			return err
		}
		if err := db.WriteStats(ctx, tx, applied); err != nil {
			return err
		}
		trans, err = db.ApplyHealth(ctx, tx, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return trans, nil
}

// Without returns outcomes without those at the indexes skip (ascending);
// outcomes itself when there are none.
func Without(outcomes []store.Outcome, skip []int) []store.Outcome {
	if len(skip) == 0 {
		return outcomes
	}
	out := make([]store.Outcome, 0, len(outcomes)-len(skip))
	for i := range outcomes {
		if len(skip) > 0 && skip[0] == i {
			skip = skip[1:]
			continue
		}
		out = append(out, outcomes[i])
	}
	return out
}

// ApplyHealth, inside the transaction that records b's outcomes, reads
// the state of the endpoints concerned (locked on engines with row locks,
// so two nodes cannot both disable one endpoint), asks b.Health what
// follows, and writes what changed.
func (db *DB) ApplyHealth(ctx context.Context, tx *sql.Tx, b store.CompleteBatch) ([]store.EndpointTransition, error) {
	if b.Health == nil || len(b.Outcomes) == 0 {
		return nil, nil
	}
	hs := store.EndpointHealth(b.Outcomes)
	if len(hs) == 0 {
		return nil, nil // outcomes without contact say nothing of health
	}
	states, err := db.endpointStates(ctx, tx, hs)
	if err != nil {
		return nil, err
	}
	var out []store.EndpointTransition
	for _, h := range hs {
		s, ok := states[h.EndpointID]
		if !ok {
			continue // deleted meanwhile
		}
		d := b.Health.Decide(s, h, b.Now)
		t, err := db.writeHealth(ctx, tx, s, d, b.Now)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	return out, nil
}

func (db *DB) endpointStates(ctx context.Context, tx *sql.Tx, hs []store.Health) (map[string]store.EndpointState, error) {
	args := make([]any, len(hs))
	for i, h := range hs {
		args[i] = h.EndpointID
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, tenant_id, enabled, failing_since, rest_hook FROM endpoints
		WHERE id IN (?`+strings.Repeat(`, ?`, len(hs)-1)+`) ORDER BY id`+db.D.LockRow()), args...)
	if err != nil {
		return nil, db.errf("endpoint health", err)
	}
	list, err := collect(rows, func(s Scanner) (store.EndpointState, error) {
		var st store.EndpointState
		var failing sql.NullInt64
		err := s.Scan(&st.EndpointID, &st.TenantID, &st.Enabled, &failing, &st.RESTHook)
		st.FailingSince = nullMS(failing)
		return st, err
	})
	if err != nil {
		return nil, db.errf("endpoint health", err)
	}
	out := make(map[string]store.EndpointState, len(list))
	for _, st := range list {
		out[st.EndpointID] = st
	}
	return out, nil
}

func (db *DB) writeHealth(ctx context.Context, tx *sql.Tx, s store.EndpointState, d store.HealthDecision, now time.Time) ([]store.EndpointTransition, error) {
	if d.Delete {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM endpoints WHERE id = ?`), s.EndpointID); err != nil {
			return nil, db.errf("delete endpoint", err)
		}
		return []store.EndpointTransition{{EndpointID: s.EndpointID, TenantID: s.TenantID, Kind: store.TransitionDeleted,
			Reason: d.Reason, At: FromMS(MS(now))}}, nil
	}
	var out []store.EndpointTransition
	if !sameTime(s.FailingSince, d.FailingSince) {
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE endpoints SET failing_since = ? WHERE id = ?`), optMS(d.FailingSince), s.EndpointID); err != nil {
			return nil, db.errf("endpoint health", err)
		}
	}
	if d.Recovered {
		out = append(out, store.EndpointTransition{EndpointID: s.EndpointID, TenantID: s.TenantID, Kind: store.TransitionRecovered, At: FromMS(MS(now))})
	}
	if d.Disable {
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE endpoints SET enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?`),
			false, d.Reason, MS(now), s.EndpointID); err != nil {
			return nil, db.errf("disable endpoint", err)
		}
		out = append(out, store.EndpointTransition{EndpointID: s.EndpointID, TenantID: s.TenantID, Kind: store.TransitionDisabled,
			Reason: d.Reason, At: FromMS(MS(now))})
	}
	return out, nil
}

// HealthWrites reports whether b's health policy would change any of the
// endpoints (states by id, as they were read) or report a transition:
// only then must ApplyHealth run.
func HealthWrites(b store.CompleteBatch, states map[string]store.EndpointState) bool {
	if b.Health == nil {
		return false
	}
	for _, h := range store.EndpointHealth(b.Outcomes) {
		s, ok := states[h.EndpointID]
		if !ok {
			continue
		}
		d := b.Health.Decide(s, h, b.Now)
		if !sameTime(s.FailingSince, d.FailingSince) || d.Recovered || d.Disable || d.Delete {
			return true
		}
	}
	return false
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UnixMilli() == b.UnixMilli()
}
