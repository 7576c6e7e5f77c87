-- Delivery statistics, maintained with the outcomes (internal/stats): per
-- endpoint and minute (kept 2 hours) or hour (kept 35 days), the
-- deliveries created then by their current status, and the latency
-- histogram (bins l00-l22) and last success and failure of the attempts
-- made then. No foreign key: an outcome of a just deleted endpoint must
-- not fail its batch; deleting an endpoint deletes its rows.
CREATE TABLE delivery_stats (
    endpoint_id     TEXT COLLATE "C" NOT NULL,
    tenant_id       TEXT COLLATE "C" NOT NULL,
    res             TEXT NOT NULL,           -- 'm' minute, 'h' hour
    bucket          BIGINT NOT NULL,         -- start, ms since the epoch
    succeeded       BIGINT NOT NULL DEFAULT 0,
    failed          BIGINT NOT NULL DEFAULT 0,
    retrying        BIGINT NOT NULL DEFAULT 0,
    last_success_at BIGINT NOT NULL DEFAULT 0,
    last_failure_at BIGINT NOT NULL DEFAULT 0,
    l00 BIGINT NOT NULL DEFAULT 0,
    l01 BIGINT NOT NULL DEFAULT 0,
    l02 BIGINT NOT NULL DEFAULT 0,
    l03 BIGINT NOT NULL DEFAULT 0,
    l04 BIGINT NOT NULL DEFAULT 0,
    l05 BIGINT NOT NULL DEFAULT 0,
    l06 BIGINT NOT NULL DEFAULT 0,
    l07 BIGINT NOT NULL DEFAULT 0,
    l08 BIGINT NOT NULL DEFAULT 0,
    l09 BIGINT NOT NULL DEFAULT 0,
    l10 BIGINT NOT NULL DEFAULT 0,
    l11 BIGINT NOT NULL DEFAULT 0,
    l12 BIGINT NOT NULL DEFAULT 0,
    l13 BIGINT NOT NULL DEFAULT 0,
    l14 BIGINT NOT NULL DEFAULT 0,
    l15 BIGINT NOT NULL DEFAULT 0,
    l16 BIGINT NOT NULL DEFAULT 0,
    l17 BIGINT NOT NULL DEFAULT 0,
    l18 BIGINT NOT NULL DEFAULT 0,
    l19 BIGINT NOT NULL DEFAULT 0,
    l20 BIGINT NOT NULL DEFAULT 0,
    l21 BIGINT NOT NULL DEFAULT 0,
    l22 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, res, bucket)
);
CREATE INDEX delivery_stats_tenant ON delivery_stats (tenant_id, res, bucket);
CREATE INDEX delivery_stats_age ON delivery_stats (res, bucket);
