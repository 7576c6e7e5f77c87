-- A tenant's endpoint configuration version, bumped by every change of its
-- endpoints that matters to delivery (not by health bookkeeping), so that
-- a fan-out read from a cache can be checked in the ingest statement.
ALTER TABLE tenants ADD COLUMN endpoints_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION slotwire_endpoints_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = OLD.tenant_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
    ELSE
        UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF tenant_id, url, description, event_types, enabled,
    disabled_reason, headers, secret, max_concurrency, ordering, rate_limit ON endpoints
    FOR EACH ROW EXECUTE FUNCTION slotwire_endpoints_changed();
