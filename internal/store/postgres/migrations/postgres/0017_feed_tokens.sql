-- A per-endpoint read token for the pull feed (its SHA-256; the token is
-- shown once). Unique, so a token names one endpoint.
ALTER TABLE endpoints ADD COLUMN feed_token_hash TEXT;
CREATE UNIQUE INDEX endpoints_feed_token ON endpoints (feed_token_hash) WHERE feed_token_hash IS NOT NULL;
