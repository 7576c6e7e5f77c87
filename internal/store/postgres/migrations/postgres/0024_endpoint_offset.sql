-- An endpoint's offset of appointment.starting and appointment.ended (a Go
-- duration; '' is the moment itself): it gets the events fired that far
-- from the appointment's start or end.
ALTER TABLE endpoints ADD COLUMN timing_offset TEXT NOT NULL DEFAULT '';

DROP TRIGGER endpoints_changed ON endpoints;
CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF tenant_id, url, description, event_types, enabled,
    disabled_reason, headers, secret, max_concurrency, ordering, rate_limit, source_apps, source_types, payload_format,
    previous_secret, previous_secret_until, signature_profile, signature_header, verify, verified_url, auth, tls,
    filter, transform, type, email, timing_offset ON endpoints FOR EACH ROW EXECUTE FUNCTION slotwire_endpoints_changed();
