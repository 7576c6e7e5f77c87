package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

// CreateTenant stores a tenant together with its first API key.
func (db *DB) CreateTenant(ctx context.Context, t *slotwire.Tenant, key *slotwire.APIKey) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)`),
			t.ID, t.Name, t.Plan, MS(t.CreatedAt)); err != nil {
			return db.errf("create tenant", err)
		}
		if key != nil {
			return db.insertKey(ctx, tx, key)
		}
		return nil
	})
}

func (db *DB) insertKey(ctx context.Context, tx *sql.Tx, k *slotwire.APIKey) error {
	scopes, err := json.Marshal(k.Scopes)
	if err != nil {
		return db.errf("create api key", err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO api_keys (id, tenant_id, hash, prefix, name, last4, scopes, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), k.ID, k.TenantID, k.Hash, k.Prefix, k.Name, k.Last4, string(scopes), MS(k.CreatedAt)); err != nil {
		return db.errf("create api key", err)
	}
	return nil
}

// CreateAPIKey adds a key to an existing tenant.
func (db *DB) CreateAPIKey(ctx context.Context, k *slotwire.APIKey) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.insertKey(ctx, tx, k) })
}

// GetTenant returns a tenant.
func (db *DB) GetTenant(ctx context.Context, id string) (*slotwire.Tenant, error) {
	return db.scanTenant(db.R.QueryRowContext(ctx, db.q(`SELECT id, name, plan, strict_event_types, created_at FROM tenants WHERE id = ?`), id))
}

// UpdateTenant stores a tenant's name, plan and settings.
func (db *DB) UpdateTenant(ctx context.Context, t *slotwire.Tenant) error {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE tenants SET name = ?, plan = ?, strict_event_types = ? WHERE id = ?`),
		t.Name, t.Plan, t.StrictEventTypes, t.ID)
	if err != nil {
		return db.errf("update tenant", err)
	}
	return mustHaveChanged(res, "tenant")
}

// ListTenants returns tenants, oldest first.
func (db *DB) ListTenants(ctx context.Context) ([]*slotwire.Tenant, error) {
	rows, err := db.R.QueryContext(ctx, `SELECT id, name, plan, strict_event_types, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, db.errf("list tenants", err)
	}
	return collect(rows, db.scanTenant)
}

// KeyByHash returns the API key with that hash and its tenant.
func (db *DB) KeyByHash(ctx context.Context, hash string) (*slotwire.APIKey, *slotwire.Tenant, error) {
	st, err := db.readStmt(ctx, `SELECT `+keyCols+`, t.id, t.name, t.plan, t.strict_event_types, t.created_at
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?`)
	if err != nil {
		return nil, nil, db.errf("api key", err)
	}
	var t slotwire.Tenant
	var created int64
	k, err := db.scanKey(st.QueryRowContext(ctx, hash), &t.ID, &t.Name, &t.Plan, &t.StrictEventTypes, &created)
	if err != nil {
		return nil, nil, err
	}
	t.CreatedAt = FromMS(created)
	return k, &t, nil
}

// keyCols are the api_keys columns scanKey reads (table alias k).
const keyCols = `k.id, k.tenant_id, k.prefix, k.name, k.last4, k.scopes, k.created_at`

func (db *DB) scanKey(row Scanner, extra ...any) (*slotwire.APIKey, error) {
	var k slotwire.APIKey
	var scopes string
	var created int64
	if err := row.Scan(append([]any{&k.ID, &k.TenantID, &k.Prefix, &k.Name, &k.Last4, &scopes, &created}, extra...)...); err != nil {
		return nil, db.scanErr("api key", err)
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, db.errf("api key scopes", err)
	}
	k.CreatedAt = FromMS(created)
	return &k, nil
}

// ListAPIKeys returns a tenant's keys, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context, tenantID string) ([]*slotwire.APIKey, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT `+keyCols+` FROM api_keys k WHERE k.tenant_id = ? ORDER BY k.id`), tenantID)
	if err != nil {
		return nil, db.errf("list api keys", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.APIKey, error) { return db.scanKey(s) })
}

// DeleteAPIKey removes a key.
func (db *DB) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	res, err := db.W.ExecContext(ctx, db.q(`DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`), tenantID, id)
	if err != nil {
		return db.errf("delete api key", err)
	}
	return mustHaveChanged(res, "api key")
}

// CreateEndpoint stores a new endpoint.
func (db *DB) CreateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	_, err := db.W.ExecContext(ctx, db.q(`INSERT INTO endpoints (`+EndpointCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`), db.endpointArgs(e)...)
	if err != nil {
		return db.errf("create endpoint", err)
	}
	return nil
}

// GetEndpoint returns one of a tenant's endpoints.
func (db *DB) GetEndpoint(ctx context.Context, tenantID, id string) (*slotwire.Endpoint, error) {
	return db.ScanEndpoint(db.R.QueryRowContext(ctx, db.q(`SELECT `+EndpointCols+` FROM endpoints WHERE tenant_id = ? AND id = ?`), tenantID, id))
}

// ListEndpoints returns a tenant's endpoints newest first.
func (db *DB) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]*slotwire.Endpoint, error) {
	q := `SELECT ` + EndpointCols + ` FROM endpoints WHERE tenant_id = ?`
	args := []any{tenantID}
	if p.Before != "" {
		q += ` AND id < ?`
		args = append(args, p.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := db.R.QueryContext(ctx, db.q(q), append(args, limitOf(p.Limit))...)
	if err != nil {
		return nil, db.errf("list endpoints", err)
	}
	return collect(rows, db.ScanEndpoint)
}

// CountEndpoints counts a tenant's endpoints.
func (db *DB) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	var n int
	if err := db.R.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM endpoints WHERE tenant_id = ?`), tenantID).Scan(&n); err != nil {
		return 0, db.errf("count endpoints", err)
	}
	return n, nil
}

// EnabledEndpoints returns a tenant's enabled endpoints in id order.
func (db *DB) EnabledEndpoints(ctx context.Context, tenantID string) ([]*slotwire.Endpoint, error) {
	st, err := db.readStmt(ctx, enabledEndpointsSQL(db.D))
	if err != nil {
		return nil, db.errf("endpoints of "+tenantID, err)
	}
	rows, err := st.QueryContext(ctx, tenantID)
	if err != nil {
		return nil, db.errf("endpoints of "+tenantID, err)
	}
	return collect(rows, db.ScanEndpoint)
}

// EndpointsVersion is the tenant's endpoint configuration version (0 for
// an unknown tenant), bumped by triggers on endpoints.
func (db *DB) EndpointsVersion(ctx context.Context, tenantID string) (int64, error) {
	st, err := db.readStmt(ctx, `SELECT endpoints_version FROM tenants WHERE id = ?`)
	if err != nil {
		return 0, db.errf("endpoints version of "+tenantID, err)
	}
	var v int64
	if err := st.QueryRowContext(ctx, tenantID).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, db.errf("endpoints version of "+tenantID, err)
	}
	return v, nil
}

func enabledEndpointsSQL(d Dialect) string {
	return `SELECT ` + EndpointCols + ` FROM endpoints WHERE tenant_id = ? AND enabled = ` + d.True() + ` ORDER BY id`
}

func (db *DB) enabledEndpoints(ctx context.Context, q Querier, tenantID string) ([]*slotwire.Endpoint, error) {
	rows, err := q.QueryContext(ctx, db.q(enabledEndpointsSQL(db.D)), tenantID)
	if err != nil {
		return nil, db.errf("endpoints of "+tenantID, err)
	}
	return collect(rows, db.ScanEndpoint)
}

// UpdateEndpoint replaces every stored field of the endpoint.
func (db *DB) UpdateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	a := db.endpointArgs(e)
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE endpoints SET url = ?, description = ?, event_types = ?, enabled = ?,
		disabled_reason = ?, headers = ?, secret = ?, max_concurrency = ?, ordering = ?, rate_limit = ?,
		failing_since = ?, updated_at = ?, source_apps = ?, source_types = ?, payload_format = ?,
		previous_secret = ?, previous_secret_until = ?, signature_profile = ?, signature_header = ?, verify = ?, verified_url = ?,
		auth = ?, tls = ?, filter = ?, transform = ?, type = ?, email = ?, timing_offset = ? WHERE tenant_id = ? AND id = ?`),
		a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[14], a[15], a[16], a[17], a[19], a[20], a[21], a[22],
		a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31], e.TenantID, e.ID)
	if err != nil {
		return db.errf("update endpoint", err)
	}
	return mustHaveChanged(res, "endpoint")
}

// MarkVerified records that url echoed the endpoint's challenge, if the
// endpoint still has that URL; it reports whether it did.
func (db *DB) MarkVerified(ctx context.Context, tenantID, id, url string) (bool, error) {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE endpoints SET verified_url = ? WHERE tenant_id = ? AND id = ? AND url = ?`),
		url, tenantID, id, url)
	if err != nil {
		return false, db.errf("verify endpoint", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteEndpoint removes the endpoint, its deliveries and attempts.
func (db *DB) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`), tenantID, id)
		if err != nil {
			return db.errf("delete endpoint", err)
		}
		if err := mustHaveChanged(res, "endpoint"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM delivery_stats WHERE endpoint_id = ?`), id); err != nil {
			return db.errf("delete endpoint", err)
		}
		return nil
	})
}

func mustHaveChanged(res sql.Result, what string) error {
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(what)
	}
	return nil
}

// EndpointOffsets returns the offsets (Endpoint.Offset) the tenant's
// enabled endpoints set, read in a module's transaction q, so that a
// module computing timers needs no second connection.
func EndpointOffsets(ctx context.Context, q store.ReadTx, tenantID string) ([]time.Duration, error) {
	rows, err := q.QueryContext(ctx, q.Dialect().Rebind(`SELECT DISTINCT timing_offset FROM endpoints
		WHERE tenant_id = ? AND enabled = ? AND timing_offset <> ''`), tenantID, true)
	if err != nil {
		return nil, fmt.Errorf("endpoint offsets: %w", err)
	}
	list, err := collect(rows, func(s Scanner) (string, error) { var o string; return o, s.Scan(&o) })
	if err != nil {
		return nil, fmt.Errorf("endpoint offsets: %w", err)
	}
	var out []time.Duration
	for _, o := range list {
		if d, err := time.ParseDuration(o); err == nil {
			out = append(out, d)
		}
	}
	return out, nil
}
