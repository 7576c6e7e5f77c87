package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/slotwire/slotwire/internal/store"
)

// testSessions: dashboard sessions are found by hash until they expire or
// are deleted; a portal link opens once, before it expires, and its link
// hash stops working when it has; an operator's session has no tenant.
func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	ten := newTenant(t, s, "sessions")
	now := time.Now().Truncate(time.Millisecond).UTC()
	key := &store.Session{Hash: "h-key", TenantID: ten.ID, APIKeyID: "key_1", Kind: store.SessionKey,
		Opened: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, key))
	got, err := s.SessionByHash(ctx, "h-key", now)
	must(t, err)
	if got.TenantID != ten.ID || got.APIKeyID != "key_1" || got.Kind != store.SessionKey || len(got.Scopes) != 0 ||
		!got.ExpiresAt.Equal(key.ExpiresAt) || !got.CreatedAt.Equal(now) {
		t.Fatalf("session = %+v, want %+v", got, key)
	}
	_, err = s.SessionByHash(ctx, "h-key", now.Add(time.Hour))
	notFound(t, err)

	op := &store.Session{Hash: "h-op", APIKeyID: "admin:abc", Kind: store.SessionOperator,
		Opened: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, op))
	if got, err := s.SessionByHash(ctx, "h-op", now); err != nil || got.TenantID != "" {
		t.Fatalf("operator session = %+v, %v", got, err)
	}
	must(t, s.DeleteSession(ctx, "h-op"))
	must(t, s.DeleteSession(ctx, "h-op"))
	_, err = s.SessionByHash(ctx, "h-op", now)
	notFound(t, err)

	link := &store.Session{Hash: "h-link", TenantID: ten.ID, APIKeyID: "key_1", Kind: store.SessionPortal,
		Scopes: []string{"endpoints:read"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, link))
	_, err = s.SessionByHash(ctx, "h-link", now)
	notFound(t, err) // not opened yet
	_, err = s.OpenPortalLink(ctx, "h-link", "h-portal", now.Add(time.Hour))
	notFound(t, err) // expired
	opened, err := s.OpenPortalLink(ctx, "h-link", "h-portal", now)
	must(t, err)
	if opened.Hash != "h-portal" || !opened.Opened || len(opened.Scopes) != 1 || opened.Scopes[0] != "endpoints:read" {
		t.Fatalf("opened portal session = %+v", opened)
	}
	_, err = s.OpenPortalLink(ctx, "h-link", "h-again", now)
	notFound(t, err) // once
	_, err = s.OpenPortalLink(ctx, "h-key", "h-again", now)
	notFound(t, err) // a key session is no link
	if _, err := s.SessionByHash(ctx, "h-portal", now); err != nil {
		t.Fatal(err)
	}

	// A new session deletes the expired ones.
	later := &store.Session{Hash: "h-later", TenantID: ten.ID, APIKeyID: "key_1", Kind: store.SessionKey,
		Opened: true, CreatedAt: now.Add(2 * time.Hour), ExpiresAt: now.Add(3 * time.Hour)}
	must(t, s.CreateSession(ctx, later))
	_, err = s.SessionByHash(ctx, "h-key", now)
	notFound(t, err)
}
