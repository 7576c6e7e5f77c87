-- An endpoint's offset of appointment.starting and appointment.ended (a Go
-- duration; '' is the moment itself): it gets the events fired that far
-- from the appointment's start or end.
ALTER TABLE endpoints ADD COLUMN timing_offset TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_updated;
CREATE TRIGGER endpoints_updated AFTER UPDATE OF tenant_id, url, description, event_types, enabled, disabled_reason,
    headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls,
    filter, transform, type, email, timing_offset ON endpoints BEGIN
    UPDATE tenants SET endpoints_version = endpoints_version + 1 WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
