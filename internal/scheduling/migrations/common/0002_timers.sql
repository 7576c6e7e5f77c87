-- Time-based events: a tenant's notification settings (confirmations,
-- reminders, the offsets of appointment.starting and appointment.ended),
-- and the durable timers of each appointment, replaced in the transaction
-- that changes the appointment and deleted in the one that fires them.
CREATE TABLE sched_notification_settings (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    settings   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sched_timers (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    appointment_id TEXT NOT NULL REFERENCES sched_appointments(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,           -- the event type it fires
    before_s       BIGINT NOT NULL DEFAULT 0, -- reminders: how long before the start
    channel        TEXT NOT NULL DEFAULT '',  -- reminders: email or sms
    offset_s       BIGINT NOT NULL DEFAULT 0, -- starting / ended: after the start or end
    due_at         BIGINT NOT NULL
);
CREATE INDEX sched_timers_due ON sched_timers (due_at);
CREATE INDEX sched_timers_appointment ON sched_timers (appointment_id);
