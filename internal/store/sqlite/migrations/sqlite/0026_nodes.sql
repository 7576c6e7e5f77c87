-- The nodes sharing the database (internal/heartbeat): each running node
-- writes its row at start and every heartbeat (10 s by default), removes
-- it on a clean stop, and removes rows not written for a day. Times are
-- ms since the epoch; inflight is the deliveries the node was sending at
-- its last heartbeat.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    version      TEXT NOT NULL,
    host         TEXT NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    inflight     BIGINT NOT NULL DEFAULT 0
) WITHOUT ROWID;
