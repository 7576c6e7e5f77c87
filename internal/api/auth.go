package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/slotwire/slotwire"
	"github.com/slotwire/slotwire/internal/httpx"
)

// TenantFrom returns the tenant authenticated for the request. It is set
// on every route registered with Server.HandleTenant.
func TenantFrom(ctx context.Context) *slotwire.Tenant { return httpx.TenantFrom(ctx) }

// HashKey returns the stored form of an API key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// GenerateAPIKey returns a fresh secret API key.
func GenerateAPIKey() string {
	return "sk_" + strings.TrimRight(base64.RawURLEncoding.EncodeToString(slotwire.RandomToken(32)), "=")
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
