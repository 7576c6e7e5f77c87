package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/slotwire/slotwire"
)

// PutEventType registers a type, or registers again an archived one.
func (db *DB) PutEventType(ctx context.Context, t *slotwire.EventType) error {
	res, err := db.W.ExecContext(ctx, db.q(`INSERT INTO event_types (tenant_id, type, description, schema, example, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, type) DO UPDATE SET description = excluded.description, schema = excluded.schema,
			example = excluded.example, archived_at = NULL, created_at = excluded.created_at
		WHERE event_types.archived_at IS NOT NULL`),
		t.TenantID, t.Type, t.Description, optJSON(t.Schema), optJSON(t.Example), MS(t.CreatedAt))
	if err != nil {
		return db.errf("register event type", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return slotwire.Errorf(slotwire.ECodeConflict, "event type %q is already registered; delete it first to change it", t.Type)
	}
	return nil
}

func optJSON(v json.RawMessage) any {
	if len(v) == 0 {
		return nil
	}
	return string(v)
}

// ListEventTypes returns a tenant's registered types, by type.
func (db *DB) ListEventTypes(ctx context.Context, tenantID string) ([]*slotwire.EventType, error) {
	rows, err := db.R.QueryContext(ctx, db.q(`SELECT type, description, schema, example, created_at FROM event_types
		WHERE tenant_id = ? AND archived_at IS NULL ORDER BY type`), tenantID)
	if err != nil {
		return nil, db.errf("event types", err)
	}
	return collect(rows, func(s Scanner) (*slotwire.EventType, error) {
		t := &slotwire.EventType{TenantID: tenantID}
		var schema, example sql.NullString
		var created int64
		if err := s.Scan(&t.Type, &t.Description, &schema, &example, &created); err != nil {
			return nil, db.errf("event types", err)
		}
		if schema.Valid {
			t.Schema = json.RawMessage(schema.String)
		}
		if example.Valid {
			t.Example = json.RawMessage(example.String)
		}
		t.CreatedAt = FromMS(created)
		return t, nil
	})
}

// ArchiveEventType archives a registered type.
func (db *DB) ArchiveEventType(ctx context.Context, tenantID, eventType string, now time.Time) error {
	res, err := db.W.ExecContext(ctx, db.q(`UPDATE event_types SET archived_at = ? WHERE tenant_id = ? AND type = ? AND archived_at IS NULL`),
		MS(now), tenantID, eventType)
	if err != nil {
		return db.errf("archive event type", err)
	}
	return mustHaveChanged(res, "event type")
}
