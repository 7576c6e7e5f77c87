// Package sqlrows holds what the two database/sql drivers (sqlite and
// postgres) share: how domain objects map to columns and back, and the
// send-slot algorithm. The SQL that differs between the databases stays in
// the drivers.
package sqlrows

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slotwire/slotwire"
)

// Scanner is a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(...any) error }

// MS is t in Unix milliseconds, the time format of every table.
func MS(t time.Time) int64 { return t.UnixMilli() }

// FromMS is the UTC time of a Unix millisecond value.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// NullMS is the time of a nullable column.
func NullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMS(v.Int64)
	return &t
}

// OptMS is the column value of an optional time.
func OptMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// notFound wraps slotwire.ErrNotFound as "<what>: not found", the form the
// API turns into "<what> not found"; other errors get the driver's prefix.
func scanErr(driver, what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, slotwire.ErrNotFound)
	}
	return fmt.Errorf("%s: %s: %w", driver, what, err)
}

// ScanTenant reads id, name, plan, created_at.
func ScanTenant(driver string, row Scanner) (*slotwire.Tenant, error) {
	var t slotwire.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Plan, &created); err != nil {
		return nil, scanErr(driver, "tenant", err)
	}
	t.CreatedAt = FromMS(created)
	return &t, nil
}

// EndpointCols are the columns ScanEndpoint reads and EndpointArgs writes.
const EndpointCols = `id, tenant_id, url, description, event_types, enabled, disabled_reason, headers, secret,
	max_concurrency, ordering, rate_limit, failing_since, created_at, updated_at`

// ScanEndpoint reads EndpointCols.
func ScanEndpoint(driver string, row Scanner) (*slotwire.Endpoint, error) {
	var e slotwire.Endpoint
	var types, headers string
	var failing sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason, &headers,
		&e.Secret, &e.MaxConcurrency, &e.Ordering, &e.RateLimit, &failing, &created, &updated); err != nil {
		return nil, scanErr(driver, "endpoint", err)
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("%s: endpoint %s event_types: %w", driver, e.ID, err)
	}
	if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return nil, fmt.Errorf("%s: endpoint %s headers: %w", driver, e.ID, err)
	}
	e.FailingSince = NullMS(failing)
	e.CreatedAt, e.UpdatedAt = FromMS(created), FromMS(updated)
	return &e, nil
}

// EndpointArgs are the values of EndpointCols.
func EndpointArgs(e *slotwire.Endpoint) []any {
	types, _ := json.Marshal(e.EventTypes)
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	headers, _ := json.Marshal(e.Headers)
	return []any{e.ID, e.TenantID, e.URL, e.Description, string(types), e.Enabled, e.DisabledReason, string(headers),
		e.Secret, e.MaxConcurrency, e.Ordering, e.RateLimit, OptMS(e.FailingSince), MS(e.CreatedAt), MS(e.UpdatedAt)}
}

// DeliveryCols are the columns ScanDelivery reads.
const DeliveryCols = `seq, id, tenant_id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at,
	last_status_code, last_error, replay_of, created_at, updated_at`

// ScanDelivery reads DeliveryCols, then extra.
func ScanDelivery(driver string, row Scanner, extra ...any) (*slotwire.Delivery, error) {
	var d slotwire.Delivery
	var next sql.NullInt64
	var replay sql.NullString
	var created, updated int64
	dest := []any{&d.Seq, &d.ID, &d.TenantID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next,
		&d.LastStatusCode, &d.LastError, &replay, &created, &updated}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, scanErr(driver, "delivery", err)
	}
	if d.Status == slotwire.StatusPending || d.Status == slotwire.StatusInflight {
		d.NextAttemptAt = NullMS(next)
	}
	d.ReplayOf = replay.String
	d.CreatedAt, d.UpdatedAt = FromMS(created), FromMS(updated)
	return &d, nil
}

// AcquireSlots keeps the send slots owner holds of an endpoint up to want
// (giving back the rest), renews them until `until`, and takes free or
// expired slots below max until it holds want. rebind turns '?' into the
// driver's placeholders. The caller runs it in a transaction.
func AcquireSlots(ctx context.Context, tx *sql.Tx, rebind func(string) string, endpointID, owner string, want, max int, now, until int64) (int, error) {
	if _, err := tx.ExecContext(ctx, rebind(`DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot >= ?`), endpointID, max); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, rebind(`SELECT slot, owner, lease_until FROM endpoint_slots WHERE endpoint_id = ? ORDER BY slot`), endpointID)
	if err != nil {
		return 0, err
	}
	taken := map[int]bool{}
	var mine []int
	for rows.Next() {
		var slot int
		var o string
		var lu int64
		if err := rows.Scan(&slot, &o, &lu); err != nil {
			rows.Close()
			return 0, err
		}
		switch {
		case o == owner:
			mine = append(mine, slot)
			taken[slot] = true
		case lu >= now:
			taken[slot] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for len(mine) > want {
		last := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		if _, err := tx.ExecContext(ctx, rebind(`DELETE FROM endpoint_slots WHERE endpoint_id = ? AND slot = ? AND owner = ?`), endpointID, last, owner); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, rebind(`UPDATE endpoint_slots SET lease_until = ? WHERE endpoint_id = ? AND owner = ?`), until, endpointID, owner); err != nil {
		return 0, err
	}
	held := len(mine)
	for slot := 0; slot < max && held < want; slot++ {
		if taken[slot] {
			continue
		}
		res, err := tx.ExecContext(ctx, rebind(`INSERT INTO endpoint_slots (endpoint_id, slot, owner, lease_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (endpoint_id, slot) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE endpoint_slots.lease_until < ?`), endpointID, slot, owner, until, now)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			held++
		}
	}
	return held, nil
}
