-- PostgreSQL has had deliveries_event since 0001 (for the cascade from
-- events); SQLite gets it in its 0018. Kept so both count the same.
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_id);
