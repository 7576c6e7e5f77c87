package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/store"
)

// CreateTenant stores a tenant and its first key.
func (db *DB) CreateTenant(ctx context.Context, t *slotwire.Tenant, key *slotwire.APIKey) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, name, plan, created_at) VALUES (?, ?, ?, ?)`,
			t.ID, t.Name, t.Plan, ms(t.CreatedAt)); err != nil {
			return fmt.Errorf("sqlite: create tenant: %w", err)
		}
		if key != nil {
			return insertKey(ctx, tx, key)
		}
		return nil
	})
}

func insertKey(ctx context.Context, tx *sql.Tx, k *slotwire.APIKey) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Hash, k.Prefix, ms(k.CreatedAt)); err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return nil
}

// CreateAPIKey adds a key to a tenant.
func (db *DB) CreateAPIKey(ctx context.Context, k *slotwire.APIKey) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return insertKey(ctx, tx, k) })
}

func scanTenant(row interface{ Scan(...any) error }) (*slotwire.Tenant, error) {
	var t slotwire.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Plan, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("tenant: %w", slotwire.ErrNotFound)
		}
		return nil, fmt.Errorf("sqlite: tenant: %w", err)
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}

// GetTenant returns a tenant by id.
func (db *DB) GetTenant(ctx context.Context, id string) (*slotwire.Tenant, error) {
	return scanTenant(db.r.QueryRowContext(ctx, `SELECT id, name, plan, created_at FROM tenants WHERE id = ?`, id))
}

// ListTenants returns all tenants, oldest first.
func (db *DB) ListTenants(ctx context.Context) ([]*slotwire.Tenant, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, plan, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tenants: %w", err)
	}
	defer rows.Close()
	var out []*slotwire.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TenantByKeyHash authenticates an API key.
func (db *DB) TenantByKeyHash(ctx context.Context, hash string) (*slotwire.Tenant, error) {
	return scanTenant(db.r.QueryRowContext(ctx, `SELECT t.id, t.name, t.plan, t.created_at
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ?`, hash))
}

const endpointCols = `id, tenant_id, url, description, event_types, enabled, disabled_reason, headers, secret,
	max_concurrency, ordering, rate_limit, failing_since, created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }) (*slotwire.Endpoint, error) {
	var e slotwire.Endpoint
	var types, headers string
	var failing sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &e.Enabled, &e.DisabledReason, &headers,
		&e.Secret, &e.MaxConcurrency, &e.Ordering, &e.RateLimit, &failing, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("endpoint: %w", slotwire.ErrNotFound)
		}
		return nil, fmt.Errorf("sqlite: endpoint: %w", err)
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("sqlite: endpoint %s event_types: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return nil, fmt.Errorf("sqlite: endpoint %s headers: %w", e.ID, err)
	}
	e.FailingSince = nullMS(failing)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return &e, nil
}

func endpointArgs(e *slotwire.Endpoint) []any {
	types, _ := json.Marshal(e.EventTypes)
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	headers, _ := json.Marshal(e.Headers)
	return []any{e.ID, e.TenantID, e.URL, e.Description, string(types), e.Enabled, e.DisabledReason, string(headers),
		e.Secret, e.MaxConcurrency, e.Ordering, e.RateLimit, optMS(e.FailingSince), ms(e.CreatedAt), ms(e.UpdatedAt)}
}

// CreateEndpoint stores a new endpoint.
func (db *DB) CreateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO endpoints (`+endpointCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, endpointArgs(e)...)
	if err != nil {
		return fmt.Errorf("sqlite: create endpoint: %w", err)
	}
	return nil
}

// GetEndpoint returns one of a tenant's endpoints.
func (db *DB) GetEndpoint(ctx context.Context, tenantID, id string) (*slotwire.Endpoint, error) {
	return scanEndpoint(db.r.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (db *DB) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]*slotwire.Endpoint, error) {
	q := `SELECT ` + endpointCols + ` FROM endpoints WHERE tenant_id = ?`
	args := []any{tenantID}
	if p.Before != "" {
		q += ` AND id < ?`
		args = append(args, p.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limitOf(p.Limit))
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list endpoints: %w", err)
	}
	defer rows.Close()
	out := []*slotwire.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateEndpoint replaces the endpoint's fields.
func (db *DB) UpdateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	a := endpointArgs(e)
	res, err := db.w.ExecContext(ctx, `UPDATE endpoints SET url=?, description=?, event_types=?, enabled=?, disabled_reason=?,
		headers=?, secret=?, max_concurrency=?, ordering=?, rate_limit=?, failing_since=?, updated_at=?
		WHERE tenant_id=? AND id=?`, a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[14], e.TenantID, e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("endpoint: %w", slotwire.ErrNotFound)
	}
	return nil
}

// DeleteEndpoint removes an endpoint and, by cascade, its deliveries.
func (db *DB) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("endpoint: %w", slotwire.ErrNotFound)
	}
	return nil
}
