-- Sessions of the web dashboard. A session is found by the SHA-256 of the
-- token its cookie holds (id); the token itself is never stored. A tenant's
-- session acts with the API key it was opened with (api_key_id: revoking the
-- key ends it) and at most the scopes listed (JSON array, empty: the key's);
-- an operator's session (tenant_id NULL) holds a digest of the admin token it
-- was opened with, so changing the token ends it. A portal link is a
-- session not yet opened (opened = 0): its id is the hash of the link's
-- token, replaced by the hash of the cookie's token when a browser opens it,
-- once.
CREATE TABLE dashboard_sessions (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    api_key_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    opened     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
