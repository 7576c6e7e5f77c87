package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/store"
)

const sessionColumns = `id, tenant_id, api_key_id, kind, scopes, opened, created_at, expires_at`

// CreateSession stores a dashboard session and deletes the expired ones.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	list := s.Scopes
	if list == nil {
		list = []string{}
	}
	scopes, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM dashboard_sessions WHERE expires_at < ?`), MS(s.CreatedAt)); err != nil {
			return db.errf("create session: expired", err)
		}
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO dashboard_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			s.Hash, sql.NullString{String: s.TenantID, Valid: s.TenantID != ""}, s.APIKeyID, s.Kind, string(scopes),
			s.Opened, MS(s.CreatedAt), MS(s.ExpiresAt))
		if err != nil {
			return db.errf("create session", err)
		}
		return nil
	})
}

// SessionByHash returns an opened, unexpired session.
func (db *DB) SessionByHash(ctx context.Context, hash string, now time.Time) (*store.Session, error) {
	row := db.R.QueryRowContext(ctx, db.q(`SELECT `+sessionColumns+` FROM dashboard_sessions
		WHERE id = ? AND opened = ? AND expires_at > ?`), hash, true, MS(now))
	return db.scanSession(row)
}

// OpenPortalLink opens a portal link once: its row gets the session's hash.
func (db *DB) OpenPortalLink(ctx context.Context, linkHash, sessionHash string, now time.Time) (*store.Session, error) {
	var s *store.Session
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE dashboard_sessions SET id = ?, opened = ?
			WHERE id = ? AND opened = ? AND kind = ? AND expires_at > ?`),
			sessionHash, true, linkHash, false, store.SessionPortal, MS(now))
		if err != nil {
			return db.errf("open portal link", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("portal link: %w", slotwire.ErrNotFound)
		}
		s, err = db.scanSession(tx.QueryRowContext(ctx, db.q(`SELECT `+sessionColumns+` FROM dashboard_sessions WHERE id = ?`), sessionHash))
		return err
	})
	return s, err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	if _, err := db.W.ExecContext(ctx, db.q(`DELETE FROM dashboard_sessions WHERE id = ?`), hash); err != nil {
		return db.WriteErr(db.errf("delete session", err))
	}
	return nil
}

func (db *DB) scanSession(row *sql.Row) (*store.Session, error) {
	s := &store.Session{}
	var tenant sql.NullString
	var scopes string
	var created, expires int64
	if err := row.Scan(&s.Hash, &tenant, &s.APIKeyID, &s.Kind, &scopes, &s.Opened, &created, &expires); err != nil {
		return nil, db.scanErr("session", err)
	}
	if err := json.Unmarshal([]byte(scopes), &s.Scopes); err != nil {
		return nil, db.errf("session scopes", err)
	}
	s.TenantID, s.CreatedAt, s.ExpiresAt = tenant.String, FromMS(created), FromMS(expires)
	return s, nil
}
