-- Ordering keys: an event may carry one; a delivery to a key-ordered
-- endpoint copies it, and is claimed only when no earlier delivery with
-- the same key to the same endpoint is unfinished.
ALTER TABLE events ADD COLUMN ordering_key TEXT;
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_keyed ON deliveries (endpoint_id, ordering_key, seq)
    WHERE status IN ('pending', 'inflight') AND ordering_key <> '';
