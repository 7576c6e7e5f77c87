-- Endpoint verification: an endpoint with verify set receives nothing
-- until its URL has echoed a challenge (verified_url is the URL that did).
ALTER TABLE endpoints ADD COLUMN verify BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE endpoints ADD COLUMN verified_url TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_changed ON endpoints;
CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF tenant_id, url, description, event_types, enabled,
    disabled_reason, headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url
    ON endpoints FOR EACH ROW EXECUTE FUNCTION slotwire_endpoints_changed();
