package postgres

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
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, name, plan, created_at) VALUES ($1, $2, $3, $4)`,
			t.ID, t.Name, t.Plan, ms(t.CreatedAt)); err != nil {
			return fmt.Errorf("postgres: create tenant: %w", err)
		}
		if key != nil {
			return insertKey(ctx, tx, key)
		}
		return nil
	})
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertKey(ctx context.Context, x execer, k *slotwire.APIKey) error {
	if _, err := x.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.TenantID, k.Hash, k.Prefix, ms(k.CreatedAt)); err != nil {
		return fmt.Errorf("postgres: create api key: %w", err)
	}
	return nil
}

// CreateAPIKey adds a key to a tenant.
func (db *DB) CreateAPIKey(ctx context.Context, k *slotwire.APIKey) error {
	return insertKey(ctx, db.sql, k)
}

// GetTenant returns a tenant by id.
func (db *DB) GetTenant(ctx context.Context, id string) (*slotwire.Tenant, error) {
	return scanTenant(db.sql.QueryRowContext(ctx, `SELECT id, name, plan, created_at FROM tenants WHERE id = $1`, id))
}

// ListTenants returns all tenants, oldest first.
func (db *DB) ListTenants(ctx context.Context) ([]*slotwire.Tenant, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, name, plan, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tenants: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list tenants: %w", err)
	}
	return out, nil
}

// TenantByKeyHash authenticates an API key.
func (db *DB) TenantByKeyHash(ctx context.Context, hash string) (*slotwire.Tenant, error) {
	return scanTenant(db.sql.QueryRowContext(ctx, `SELECT t.id, t.name, t.plan, t.created_at
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = $1`, hash))
}

// CreateEndpoint stores a new endpoint.
func (db *DB) CreateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO endpoints (`+endpointCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, endpointArgs(e)...)
	if err != nil {
		return fmt.Errorf("postgres: create endpoint: %w", err)
	}
	return nil
}

// GetEndpoint returns one of a tenant's endpoints.
func (db *DB) GetEndpoint(ctx context.Context, tenantID, id string) (*slotwire.Endpoint, error) {
	return scanEndpoint(db.sql.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (db *DB) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]*slotwire.Endpoint, error) {
	var a args
	q := `SELECT ` + endpointCols + ` FROM endpoints WHERE tenant_id = ` + a.add(tenantID)
	if p.Before != "" {
		q += ` AND id < ` + a.add(p.Before)
	}
	q += ` ORDER BY id DESC LIMIT ` + a.add(limitOf(p.Limit))
	rows, err := db.sql.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list endpoints: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list endpoints: %w", err)
	}
	return out, nil
}

// UpdateEndpoint replaces the endpoint's fields.
func (db *DB) UpdateEndpoint(ctx context.Context, e *slotwire.Endpoint) error {
	a := endpointArgs(e)
	res, err := db.sql.ExecContext(ctx, `UPDATE endpoints SET url = $1, description = $2, event_types = $3, enabled = $4,
		disabled_reason = $5, headers = $6, secret = $7, max_concurrency = $8, ordering = $9, rate_limit = $10,
		failing_since = $11, updated_at = $12
		WHERE tenant_id = $13 AND id = $14`, a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[14], e.TenantID, e.ID)
	if err != nil {
		return fmt.Errorf("postgres: update endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("endpoint: %w", slotwire.ErrNotFound)
	}
	return nil
}

// DeleteEndpoint removes an endpoint and, by cascade, its deliveries.
func (db *DB) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return fmt.Errorf("postgres: delete endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("endpoint: %w", slotwire.ErrNotFound)
	}
	return nil
}
