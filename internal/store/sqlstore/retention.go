package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// ExpiredError is the last error of a delivery the retention job failed
// because it was still waiting when its retention period ended.
const ExpiredError = "expired: not delivered within the retention period"

// Marks of the retention passes: the last id each has dealt with.
const (
	markArchiveDeliveries = "archive.deliveries"
	markArchiveEvents     = "archive.events"
	markPurgeEvents       = "purge.events"
)

// oldRow is a delivery the archiving pass looks at.
type oldRow struct {
	id, eventID, endpointID, tenantID, status string
	attempts                                  int
	created                                   int64
}

// Archived is what one archiving transaction changed: the ids of the
// deliveries and events it archived (a driver may rewrite those rows).
type Archived struct {
	store.ArchiveResult
	DeliveryIDs, EventIDs []any
}

// Archive archives a batch of old deliveries and events in one
// transaction.
func (db *DB) Archive(ctx context.Context, before, now time.Time, limit int) (store.ArchiveResult, error) {
	var res Archived
	err := db.InTxRetry(ctx, func(tx *sql.Tx) (err error) {
		res, err = db.ArchiveTx(ctx, tx, before, now, limit)
		return err
	})
	return res.ArchiveResult, err
}

// ArchiveTx archives a batch inside tx.
func (db *DB) ArchiveTx(ctx context.Context, tx *sql.Tx, before, now time.Time, limit int) (Archived, error) {
	var res Archived
	if err := db.archiveDeliveries(ctx, tx, before, now, limit, &res); err != nil {
		return res, err
	}
	return res, db.archiveEvents(ctx, tx, before, now, limit, &res)
}

func (db *DB) archiveDeliveries(ctx context.Context, tx *sql.Tx, before, now time.Time, limit int, res *Archived) error {
	mark, err := db.mark(ctx, tx, markArchiveDeliveries)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, event_id, endpoint_id, tenant_id, status, attempts, created_at
		FROM deliveries WHERE id > ? ORDER BY id LIMIT ?`+db.D.LockRow()), mark, limit)
	if err != nil {
		return db.errf("archive", err)
	}
	old, err := collect(rows, func(s Scanner) (oldRow, error) {
		var r oldRow
		return r, s.Scan(&r.id, &r.eventID, &r.endpointID, &r.tenantID, &r.status, &r.attempts, &r.created)
	})
	if err != nil {
		return db.errf("archive", err)
	}
	take := old
	for i, r := range old {
		if r.created >= MS(before) || r.status == slotwire.StatusInflight {
			take = old[:i] // newer, or in flight: the next pass goes on from here
			break
		}
	}
	res.More = len(take) == limit
	if len(take) == 0 {
		return nil
	}
	if err := db.archiveRows(ctx, tx, take, before, now, res); err != nil {
		return err
	}
	return db.setMark(ctx, tx, markArchiveDeliveries, take[len(take)-1].id)
}

// archiveRows archives the deliveries (failing those still waiting),
// empties their attempts, and archives their events if nothing else
// needs them.
func (db *DB) archiveRows(ctx context.Context, tx *sql.Tx, take []oldRow, before, now time.Time, res *Archived) error {
	ids, events := make([]any, len(take)), make([]any, 0, len(take))
	var expired []store.Outcome
	for i, r := range take {
		ids[i] = r.id
		events = append(events, r.eventID)
		if r.status == slotwire.StatusPending {
			expired = append(expired, store.Outcome{DeliveryID: r.id, EndpointID: r.endpointID, TenantID: r.tenantID,
				CreatedAt: FromMS(r.created), Prior: r.attempts, Status: slotwire.StatusFailed, NoContact: true,
				Attempt: slotwire.Attempt{At: now}})
		}
	}
	in := placeholders(len(ids))
	n := MS(now)
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE deliveries SET archived_at = ?, updated_at = ?,
		inline_body = '', inline_req_headers = '', inline_resp_headers = '', next_attempt_at = NULL,
		last_error = CASE WHEN status = 'pending' THEN ? ELSE last_error END,
		status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
		WHERE id IN (`+in+`)`), append([]any{n, n, ExpiredError}, ids...)...); err != nil {
		return db.errf("archive deliveries", err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE attempts SET response_body = '', request_headers = '', response_headers = ''
		WHERE delivery_id IN (`+in+`)`), ids...); err != nil {
		return db.errf("archive attempts", err)
	}
	evs, err := db.archiveEventRows(ctx, tx, events, before, now)
	if err != nil {
		return err
	}
	res.Deliveries, res.Expired, res.Events = res.Deliveries+len(take), res.Expired+len(expired), res.Events+len(evs)
	res.DeliveryIDs, res.EventIDs = append(res.DeliveryIDs, ids...), append(res.EventIDs, evs...)
	return db.WriteStats(ctx, tx, expired)
}

// archiveEventRows archives those of the events that are old enough and
// that no delivery still needs (every delivery archived, or none).
func (db *DB) archiveEventRows(ctx context.Context, tx *sql.Tx, ids []any, before, now time.Time) ([]any, error) {
	rows, err := tx.QueryContext(ctx, db.q(`UPDATE events SET payload = substr(payload, 1, 0), archived_at = ?
		WHERE id IN (`+placeholders(len(ids))+`) AND archived_at IS NULL AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.archived_at IS NULL) RETURNING id`),
		append(append([]any{MS(now)}, ids...), MS(before))...)
	if err != nil {
		return nil, db.errf("archive events", err)
	}
	out, err := collect(rows, func(s Scanner) (any, error) { var id string; return id, s.Scan(&id) })
	if err != nil {
		return nil, db.errf("archive events", err)
	}
	return out, nil
}

// archiveEvents goes through old events in order for those that had no
// delivery (the others are archived with their last delivery).
func (db *DB) archiveEvents(ctx context.Context, tx *sql.Tx, before, now time.Time, limit int, res *Archived) error {
	ids, more, err := db.oldIDs(ctx, tx, "events", markArchiveEvents, before, limit)
	if err != nil || len(ids) == 0 {
		return err
	}
	evs, err := db.archiveEventRows(ctx, tx, ids, before, now)
	if err != nil {
		return err
	}
	res.Events += len(evs)
	res.EventIDs = append(res.EventIDs, evs...)
	res.More = res.More || more
	return db.setMark(ctx, tx, markArchiveEvents, ids[len(ids)-1].(string))
}

// oldIDs returns, in id order after the mark, up to limit ids of table
// created before before, and whether there may be more. It reads ids in
// order and stops at the first newer row, so a pass never scans what is
// younger than the period.
func (db *DB) oldIDs(ctx context.Context, tx *sql.Tx, table, mark string, before time.Time, limit int) ([]any, bool, error) {
	from, err := db.mark(ctx, tx, mark)
	if err != nil {
		return nil, false, err
	}
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, created_at FROM `+table+` WHERE id > ? ORDER BY id LIMIT ?`), from, limit)
	if err != nil {
		return nil, false, db.errf("retention "+table, err)
	}
	type idAt struct {
		id string
		at int64
	}
	all, err := collect(rows, func(s Scanner) (idAt, error) { var r idAt; return r, s.Scan(&r.id, &r.at) })
	if err != nil {
		return nil, false, db.errf("retention "+table, err)
	}
	var ids []any
	for _, r := range all {
		if r.at >= MS(before) {
			return ids, false, nil
		}
		ids = append(ids, r.id)
	}
	return ids, len(all) == limit, nil
}

func (db *DB) mark(ctx context.Context, tx *sql.Tx, name string) (string, error) {
	var m string
	err := tx.QueryRowContext(ctx, db.q(`SELECT mark FROM retention_marks WHERE name = ?`), name).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", db.errf("retention mark", err)
	}
	return m, nil
}

func (db *DB) setMark(ctx context.Context, tx *sql.Tx, name, mark string) error {
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO retention_marks (name, mark) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET mark = excluded.mark`), name, mark); err != nil {
		return db.errf("retention mark", err)
	}
	return nil
}

// Purge deletes a batch of archived deliveries and events.
func (db *DB) Purge(ctx context.Context, before time.Time, limit int) (store.PurgeResult, error) {
	var res store.PurgeResult
	err := db.InTxRetry(ctx, func(tx *sql.Tx) error {
		res = store.PurgeResult{}
		if err := db.purgeDeliveries(ctx, tx, before, limit, &res); err != nil {
			return err
		}
		ids, more, err := db.oldIDs(ctx, tx, "events", markPurgeEvents, before, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		k, err := db.purgeEventRows(ctx, tx, ids, before)
		res.Events += k
		res.More = res.More || more
		if err != nil {
			return err
		}
		return db.setMark(ctx, tx, markPurgeEvents, ids[len(ids)-1].(string))
	})
	return res, err
}

// purgeDeliveries deletes the oldest archived deliveries (their
// attempts go with them) and then their events if nothing refers to them.
// It reads the oldest rows in id order and stops at the first newer one.
func (db *DB) purgeDeliveries(ctx context.Context, tx *sql.Tx, before time.Time, limit int, res *store.PurgeResult) error {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, event_id, created_at, archived_at FROM deliveries ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return db.errf("purge", err)
	}
	type row struct {
		id, event string
		at        int64
		archived  sql.NullInt64
	}
	all, err := collect(rows, func(s Scanner) (row, error) {
		var r row
		return r, s.Scan(&r.id, &r.event, &r.at, &r.archived)
	})
	if err != nil {
		return db.errf("purge", err)
	}
	var ids, events []any
	for _, r := range all {
		if r.at >= MS(before) {
			break
		}
		if r.archived.Valid { // not yet archived: in flight, kept until it is
			ids, events = append(ids, r.id), append(events, r.event)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM deliveries WHERE id IN (`+placeholders(len(ids))+`)`), ids...); err != nil {
		return db.errf("purge deliveries", err)
	}
	k, err := db.purgeEventRows(ctx, tx, events, before)
	res.Deliveries, res.Events, res.More = len(ids), k, len(all) == limit && len(ids) > 0
	return err
}

func (db *DB) purgeEventRows(ctx context.Context, tx *sql.Tx, ids []any, before time.Time) (int, error) {
	r, err := tx.ExecContext(ctx, db.q(`DELETE FROM events WHERE id IN (`+placeholders(len(ids))+`)
		AND archived_at IS NOT NULL AND created_at < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`), append(ids, MS(before))...)
	if err != nil {
		return 0, db.errf("purge events", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

// Compact gives nothing back: engines that keep their files' space for
// reuse by themselves (PostgreSQL's vacuum) need nothing more.
func (db *DB) Compact(context.Context) (int64, error) { return 0, nil }

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
