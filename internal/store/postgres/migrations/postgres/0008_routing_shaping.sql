-- Per-endpoint routing by the event's source (JSON arrays of apps and
-- types; empty: any) and the shape of the body sent.
ALTER TABLE endpoints ADD COLUMN source_apps TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN source_types TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN payload_format TEXT NOT NULL DEFAULT '';

-- They matter to delivery: a change bumps the tenant's endpoints version.
DROP TRIGGER endpoints_changed ON endpoints;
CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF tenant_id, url, description, event_types, enabled,
    disabled_reason, headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format
    ON endpoints FOR EACH ROW EXECUTE FUNCTION slotwire_endpoints_changed();
