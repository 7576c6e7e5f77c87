package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store"
)

// erasedTables are the core tables an erasure may change.
var erasedTables = []string{"events", "deliveries", "attempts"}

// eraseBatch is how many candidate events are read at a time (payloads
// are up to --max-event-bytes each).
const eraseBatch = 100

// Erase runs one erasure in one transaction (see store.Erasures): the
// modules' erasers, then the core's rows, then the record. Candidates are
// found with a cheap filter (the lowered text holds an address or id) and
// decided by package erasure; only rows that change are written. Then
// Purge removes what old row versions the driver can, whatever the
// outcome (on SQLite it also turns secure_delete back to FAST).
func (db *DB) Erase(ctx context.Context, e *slotwire.Erasure, p *erasure.Person, erasers []store.Eraser) error {
	tables := slices.Clone(erasedTables)
	for _, er := range erasers {
		tables = append(tables, er.Tables...)
	}
	err := db.InTxRetry(ctx, func(tx *sql.Tx) error {
		if db.SecureTx != nil {
			if err := db.SecureTx(ctx, tx); err != nil {
				return db.errf("erase: secure delete", err)
			}
		}
		return db.eraseTx(ctx, tx, e, p, erasers)
	})
	if db.Scrub != nil {
		// A request that ended still gets its old row versions removed.
		if perr := db.Scrub(context.WithoutCancel(ctx), tables); perr != nil {
			db.Log.Warn("erasure: removing old row versions failed; they go with the next checkpoint or vacuum",
				"erasure", e.ID, "err", perr)
		}
	}
	return err
}

// eraseTx is the erasure's work inside its transaction.
func (db *DB) eraseTx(ctx context.Context, tx *sql.Tx, e *slotwire.Erasure, p *erasure.Person, erasers []store.Eraser) error {
	e.Counts = map[string]int{}
	w := &writeTx{readTx: readTx{Tx: tx, d: db.D}, ctx: ctx, db: db, res: &store.OutboxResult{}, seen: map[string]bool{}}
	for _, er := range erasers {
		counts, err := er.Erase(ctx, w, e.TenantID, p)
		if err != nil {
			return fmt.Errorf("erase: %s: %w", er.Name, err)
		}
		for k, v := range counts {
			e.Counts[k] += v
		}
	}
	if len(w.res.Events) > 0 {
		return fmt.Errorf("erase: an eraser emitted %d event(s); erasers emit none", len(w.res.Events))
	}
	var err error
	if e.Counts["events"], err = db.eraseEvents(ctx, tx, e.TenantID, p); err != nil {
		return err
	}
	if e.Counts["attempts"], err = db.eraseAttempts(ctx, tx, e.TenantID, p); err != nil {
		return err
	}
	counts, err := json.Marshal(e.Counts)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO erasures (id, tenant_id, api_key_id, subject, counts, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), e.ID, e.TenantID, e.APIKeyID, e.Subject, string(counts), MS(e.CreatedAt)); err != nil {
		return db.errf("erase: record", err)
	}
	return nil
}

// anyTerm is a condition true when one of the text expressions holds one
// of the terms (ASCII letters in lower case), with its arguments.
func (db *DB) anyTerm(exprs, terms []string) (string, []any) {
	var conds []string
	var args []any
	for _, x := range exprs {
		for _, t := range terms {
			conds = append(conds, db.D.ContainsFold(x))
			args = append(args, t)
		}
	}
	return `(` + strings.Join(conds, ` OR `) + `)`, args
}

// erasedEvent is a candidate event of an erasure.
type erasedEvent struct {
	id        string
	payload   []byte
	key, okey sql.NullString
}

// eraseEvents rewrites the tenant's events that hold the person's address
// or id (payload, idempotency key, ordering key), a batch at a time in id
// order, and returns how many changed. Candidates are locked (PostgreSQL)
// so that two erasures of one event apply one after the other.
func (db *DB) eraseEvents(ctx context.Context, tx *sql.Tx, tenantID string, p *erasure.Person) (int, error) {
	terms := p.Terms()
	if len(terms) == 0 {
		return 0, nil
	}
	cond, targs := db.anyTerm([]string{db.D.BlobText("payload"), "idempotency_key", "ordering_key"}, terms)
	n, after := 0, ""
	for {
		args := append(append([]any{tenantID, after}, targs...), eraseBatch)
		rows, err := tx.QueryContext(ctx, db.q(`SELECT id, payload, idempotency_key, ordering_key FROM events
			WHERE tenant_id = ? AND id > ? AND `+cond+` ORDER BY id LIMIT ?`+db.D.LockRow()), args...)
		if err != nil {
			return 0, db.errf("erase: events", err)
		}
		batch, err := collect(rows, func(s Scanner) (erasedEvent, error) {
			var ev erasedEvent
			return ev, s.Scan(&ev.id, &ev.payload, &ev.key, &ev.okey)
		})
		if err != nil {
			return 0, db.errf("erase: events", err)
		}
		for _, ev := range batch {
			changed, err := db.eraseEvent(ctx, tx, p, ev)
			if err != nil {
				return 0, err
			}
			if changed {
				n++
			}
		}
		if len(batch) < eraseBatch {
			return n, nil
		}
		after = batch[len(batch)-1].id
	}
}

// eraseEvent rewrites one event: its payload by the erasure rules (an
// empty one, whose body is no longer kept, stays empty), its idempotency
// key dropped if it holds an address (a replaced one could collide with
// another), the address replaced in its ordering key and in that of its
// deliveries.
func (db *DB) eraseEvent(ctx context.Context, tx *sql.Tx, p *erasure.Person, ev erasedEvent) (bool, error) {
	payload, changed := ev.payload, false
	if len(payload) == 0 {
		payload = []byte{} // an empty BLOB may scan as nil: written back empty, not NULL
	} else {
		var err error
		if payload, changed, err = p.JSON(ev.payload); err != nil {
			return false, fmt.Errorf("erase: event %s: %w", ev.id, err)
		}
	}
	key, okey := ev.key, ev.okey
	if key.Valid && p.Text(key.String) != key.String {
		key, changed = sql.NullString{}, true
	}
	if okey.Valid {
		okey.String = p.Text(okey.String)
		changed = changed || okey.String != ev.okey.String
	}
	if !changed {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE events SET payload = ?, idempotency_key = ?, ordering_key = ? WHERE id = ?`),
		payload, key, okey, ev.id); err != nil {
		return false, db.errf("erase: event", err)
	}
	if okey.String != ev.okey.String {
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE deliveries SET ordering_key = ? WHERE event_id = ? AND ordering_key = ?`),
			okey.String, ev.id, ev.okey.String); err != nil {
			return false, db.errf("erase: delivery ordering keys", err)
		}
	}
	return true, nil
}

// eraseAttempts replaces the person's addresses in the tenant's attempts:
// response bodies and errors (a receiver may echo the body, a jq error
// quote a value), in attempts rows and in deliveries (an inline first
// attempt's body, the last error). It returns how many attempts changed.
func (db *DB) eraseAttempts(ctx context.Context, tx *sql.Tx, tenantID string, p *erasure.Person) (int, error) {
	terms := p.EmailTerms()
	if len(terms) == 0 {
		return 0, nil
	}
	cond, targs := db.anyTerm([]string{"a.response_body", "a.error", "a.request_headers", "a.response_headers"}, terms)
	rows, err := tx.QueryContext(ctx, db.q(`SELECT a.delivery_id, a.number, a.at, a.response_body, a.error,
		a.request_headers, a.response_headers FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.tenant_id = ? AND `+cond),
		append([]any{tenantID}, targs...)...)
	if err != nil {
		return 0, db.errf("erase: attempts", err)
	}
	type attempt struct {
		delivery                  string
		number, at                int64
		body, errText, reqH, resH string
		newBody, newError         string
	}
	list, err := collect(rows, func(s Scanner) (attempt, error) {
		var a attempt
		return a, s.Scan(&a.delivery, &a.number, &a.at, &a.body, &a.errText, &a.reqH, &a.resH)
	})
	if err != nil {
		return 0, db.errf("erase: attempts", err)
	}
	n := 0
	for _, a := range list {
		reqH, resH := p.Text(a.reqH), p.Text(a.resH)
		if a.newBody, a.newError = p.Text(a.body), p.Text(a.errText); a.newBody == a.body && a.newError == a.errText &&
			reqH == a.reqH && resH == a.resH {
			continue
		}
		// The old values in the condition: an attempt is written once,
		// so this changes exactly the row read.
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE attempts SET response_body = ?, error = ?, request_headers = ?,
			response_headers = ? WHERE delivery_id = ? AND number = ? AND at = ? AND response_body = ? AND error = ?`),
			a.newBody, a.newError, reqH, resH, a.delivery, a.number, a.at, a.body, a.errText); err != nil {
			return 0, db.errf("erase: attempts", err)
		}
		n++
	}
	inline, err := db.eraseDeliveries(ctx, tx, tenantID, p, terms)
	return n + inline, err
}

// eraseDeliveries replaces the person's addresses in the tenant's
// deliveries' inline first attempt (body) and last error, and returns how
// many inline attempts changed. Rows are locked (PostgreSQL) so that an
// outcome recorded meanwhile is not overwritten with older values.
func (db *DB) eraseDeliveries(ctx context.Context, tx *sql.Tx, tenantID string, p *erasure.Person, terms []string) (int, error) {
	cond, targs := db.anyTerm([]string{"inline_body", "last_error", "inline_req_headers", "inline_resp_headers"}, terms)
	rows, err := tx.QueryContext(ctx, db.q(`SELECT id, inline_body, last_error, inline_req_headers, inline_resp_headers FROM deliveries
		WHERE tenant_id = ? AND `+cond+db.D.LockRow()), append([]any{tenantID}, targs...)...)
	if err != nil {
		return 0, db.errf("erase: deliveries", err)
	}
	type delivery struct{ id, body, lastErr, reqH, resH string }
	list, err := collect(rows, func(s Scanner) (delivery, error) {
		var d delivery
		return d, s.Scan(&d.id, &d.body, &d.lastErr, &d.reqH, &d.resH)
	})
	if err != nil {
		return 0, db.errf("erase: deliveries", err)
	}
	n := 0
	for _, d := range list {
		body, lastErr, reqH, resH := p.Text(d.body), p.Text(d.lastErr), p.Text(d.reqH), p.Text(d.resH)
		if body == d.body && lastErr == d.lastErr && reqH == d.reqH && resH == d.resH {
			continue
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE deliveries SET inline_body = ?, last_error = ?, inline_req_headers = ?,
			inline_resp_headers = ? WHERE id = ?`), body, lastErr, reqH, resH, d.id); err != nil {
			return 0, db.errf("erase: deliveries", err)
		}
		if body != d.body || reqH != d.reqH || resH != d.resH {
			n++
		}
	}
	return n, nil
}

// ListErasures returns a tenant's erasure records, newest first.
func (db *DB) ListErasures(ctx context.Context, tenantID string, p store.Page) ([]*slotwire.Erasure, error) {
	w := newWhere(`SELECT id, api_key_id, subject, counts, created_at FROM erasures`, tenantID)
	q, args := w.newestFirst(p)
	rows, err := db.R.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, db.errf("list erasures", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.Erasure, error) {
		e := &slotwire.Erasure{TenantID: tenantID}
		var counts string
		var created int64
		if err := s.Scan(&e.ID, &e.APIKeyID, &e.Subject, &counts, &created); err != nil {
			return nil, db.errf("list erasures", err)
		}
		if err := json.Unmarshal([]byte(counts), &e.Counts); err != nil {
			return nil, db.errf("list erasures: counts of "+e.ID, err)
		}
		e.CreatedAt = FromMS(created)
		return e, nil
	})
}
