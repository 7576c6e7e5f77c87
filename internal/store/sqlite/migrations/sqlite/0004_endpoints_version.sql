-- A tenant's endpoint configuration version, bumped by every change of its
-- endpoints that matters to delivery (not by health bookkeeping), so that
-- a fan-out read from a cache can be checked in the ingest transaction.
ALTER TABLE tenants ADD COLUMN endpoints_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER endpoints_inserted AFTER INSERT ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER endpoints_deleted AFTER DELETE ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
