-- E-mail endpoints: an endpoint's type ('http': url, 'email': an address
-- receiving each delivery as an e-mail with the signed payload attached).
ALTER TABLE endpoints ADD COLUMN type TEXT NOT NULL DEFAULT 'http';
ALTER TABLE endpoints ADD COLUMN email TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_changed ON endpoints;
CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF tenant_id, url, description, event_types, enabled,
    disabled_reason, headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls,
    filter, transform, type, email ON endpoints FOR EACH ROW EXECUTE FUNCTION slotwire_endpoints_changed();
