-- An event's deliveries (GET /v1/events/{id}, the event_id filter) were
-- found by scanning the tenant's deliveries; this index finds them
-- directly, at the cost of one more index entry per delivery insert.
CREATE INDEX deliveries_event ON deliveries (event_id);
