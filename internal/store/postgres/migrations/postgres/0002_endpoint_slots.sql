-- Send slots of an endpoint, leased by the nodes that deliver to it, so that
-- its concurrency bound and rate limit hold across every node sharing the
-- database: a node sends at most as many requests at once as it holds slots.
CREATE TABLE endpoint_slots (
    endpoint_id TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    slot        INTEGER NOT NULL,
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, slot)
);
