package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
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
