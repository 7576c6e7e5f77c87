package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
	"github.com/slotwire/slotwire/internal/store/sqlstore"
)

// recordOutcomes applies the outcomes in runs without a repeated delivery,
// each with one statement per table.
func recordOutcomes(ctx context.Context, tx *sql.Tx, b store.CompleteBatch) ([]store.Outcome, error) {
	n := sqlstore.MS(b.Now)
	var stale []int
	offset := 0
	for _, part := range distinctRuns(b.Outcomes) {
		_, moved, err := completeStmt(ctx, tx, part, n)
		if err != nil {
			return nil, err
		}
		stale = append(stale, staleOf(part, moved, offset)...)
		offset += len(part)
	}
	return sqlstore.Without(b.Outcomes, stale), nil
}

// staleOf lists the indexes (from offset) of the outcomes whose delivery
// did not move: its lease had passed to another node, or its endpoint was
// deleted.
func staleOf(outcomes []store.Outcome, moved map[string]bool, offset int) []int {
	var stale []int
	for i := range outcomes {
		if !moved[outcomes[i].DeliveryID] {
			stale = append(stale, offset+i)
		}
	}
	return stale
}

// distinctRuns cuts outcomes into consecutive runs in which no delivery
// appears twice, so that each run can be applied with one statement per
// table and still number repeated attempts as one-by-one would.
func distinctRuns(outcomes []store.Outcome) [][]store.Outcome {
	var out [][]store.Outcome
	start := 0
	seen := map[string]bool{}
	for i, o := range outcomes {
		if seen[o.DeliveryID] {
			out = append(out, outcomes[start:i])
			start = i
			clear(seen)
		}
		seen[o.DeliveryID] = true
	}
	if start < len(outcomes) {
		out = append(out, outcomes[start:])
	}
	return out
}

// completeSQL records a run of outcomes ($1-$9, $12, $13; no delivery twice) in one
// statement: the attempts, numbered from the deliveries as they were, and
// the deliveries still leased to the outcome's owner moved to their new
// status ($10 is now). A first attempt that succeeded is kept in the
// delivery's row instead of an attempts row. It returns the health state of the endpoints $11, each with the
// deliveries of the run it moved.
const completeSQL = `WITH o AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
			$8::text[], $9::text[], $12::text[], $13::text[])
			WITH ORDINALITY AS o(id, owner, status, next, at, code, duration, body, err, reqh, resph, ord)
	), a AS (
		INSERT INTO attempts (delivery_id, number, at, status_code, duration_ms, response_body, error,
			request_headers, response_headers)
		SELECT d.id, d.attempts + 1, o.at, o.code, o.duration, o.body, o.err, o.reqh, o.resph
		FROM o JOIN deliveries d ON d.id = o.id
		WHERE NOT (o.status = 'succeeded' AND d.attempts = 0 AND d.status = 'inflight' AND d.lease_owner = o.owner)
		ORDER BY o.ord
	), u AS (
		UPDATE deliveries d SET status = o.status, attempts = d.attempts + 1,
			next_attempt_at = CASE WHEN o.status = 'pending' THEN o.next END,
			lease_owner = NULL, lease_until = NULL, last_status_code = o.code, last_error = o.err, updated_at = $10,
			inline_at = CASE WHEN o.status = 'succeeded' AND d.attempts = 0 THEN o.at END,
			inline_ms = CASE WHEN o.status = 'succeeded' AND d.attempts = 0 THEN o.duration ELSE 0 END,
			inline_body = CASE WHEN o.status = 'succeeded' AND d.attempts = 0 THEN o.body ELSE '' END,
			inline_req_headers = CASE WHEN o.status = 'succeeded' AND d.attempts = 0 THEN o.reqh ELSE '' END,
			inline_resp_headers = CASE WHEN o.status = 'succeeded' AND d.attempts = 0 THEN o.resph ELSE '' END
		FROM o WHERE d.id = o.id AND d.status = 'inflight' AND d.lease_owner = o.owner
		RETURNING d.id, d.endpoint_id
	)
	SELECT id, tenant_id, enabled, failing_since, rest_hook,
		array_to_string(ARRAY(SELECT u.id FROM u WHERE u.endpoint_id = endpoints.id), ',')
	FROM endpoints WHERE id = ANY($11::text[])`

// Complete records a batch of outcomes. A batch in which no delivery
// appears twice is one statement in autocommit (one round trip, where a
// transaction takes five); only when the health policy would change an
// endpoint does a transaction follow, which reads the endpoints again
// under a row lock and decides again (sqlstore.ApplyHealth).
func (db *DB) Complete(ctx context.Context, b store.CompleteBatch) ([]store.EndpointTransition, error) {
	if len(b.Outcomes) == 0 {
		return nil, nil
	}
	if len(distinctRuns(b.Outcomes)) > 1 {
		return db.DB.Complete(ctx, b)
	}
	var states map[string]store.EndpointState
	var moved map[string]bool
	err := db.Retry(ctx, func() error {
		var err error
		states, moved, err = completeStmt(ctx, db.sql, b.Outcomes, sqlstore.MS(b.Now))
		return err
	})
	if err == nil {
		// Statistics right after, in autocommit too: a crash between the
		// two statements leaves these outcomes out of the counts. Only the
		// outcomes that moved their delivery count.
		applied := sqlstore.Without(b.Outcomes, staleOf(b.Outcomes, moved, 0))
		err = db.Retry(ctx, func() error { return db.WriteStats(ctx, db.sql, applied) })
	}
	if err := db.WriteErr(err); err != nil {
		return nil, err
	}
	if !sqlstore.HealthWrites(b, states) {
		return nil, nil
	}
	var trans []store.EndpointTransition
	err = db.InTxRetry(ctx, func(tx *sql.Tx) error {
		var err error
		trans, err = db.ApplyHealth(ctx, tx, b)
		return err
	})
	return trans, err
}

// completeStmt runs completeSQL for outcomes (no delivery twice) and
// returns the state of their endpoints.
func completeStmt(ctx context.Context, q querier, outcomes []store.Outcome, now int64) (map[string]store.EndpointState, map[string]bool, error) {
	k := len(outcomes)
	ids, owners, statuses := make([]string, k), make([]string, k), make([]string, k)
	bodies, errs, reqh, resph := make([]string, k), make([]string, k), make([]string, k), make([]string, k)
	at, codes, durations, next := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
	var eps []string
	seen := map[string]bool{}
	for i := range outcomes {
		o := &outcomes[i]
		ids[i], owners[i], statuses[i] = o.DeliveryID, o.Owner, o.Status
		bodies[i], errs[i] = o.Attempt.ResponseBody, o.Attempt.Error
		reqh[i], resph[i] = string(o.Attempt.RequestHeaders), string(o.Attempt.ResponseHeaders)
		at[i], codes[i], durations[i] = sqlstore.MS(o.Attempt.At), int64(o.Attempt.StatusCode), o.Attempt.DurationMS
		if o.Status == slotwire.StatusPending {
			next[i] = sqlstore.MS(o.NextAttemptAt)
		}
		if !seen[o.EndpointID] {
			seen[o.EndpointID] = true
			eps = append(eps, o.EndpointID)
		}
	}
	rows, err := q.QueryContext(ctx, completeSQL, ids, owners, statuses, next, at, codes, durations, bodies, errs, now, eps, reqh, resph)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: complete: %w", err)
	}
	defer rows.Close()
	states, moved := map[string]store.EndpointState{}, make(map[string]bool, k)
	for rows.Next() {
		var st store.EndpointState
		var failing sql.NullInt64
		var movedIDs string
		if err := rows.Scan(&st.EndpointID, &st.TenantID, &st.Enabled, &failing, &st.RESTHook, &movedIDs); err != nil {
			return nil, nil, fmt.Errorf("postgres: complete: %w", err)
		}
		for id := range strings.SplitSeq(movedIDs, ",") {
			if id != "" {
				moved[id] = true
			}
		}
		if failing.Valid {
			t := sqlstore.FromMS(failing.Int64)
			st.FailingSince = &t
		}
		states[st.EndpointID] = st
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("postgres: complete: %w", err)
	}
	return states, moved, nil
}
