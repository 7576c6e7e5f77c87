-- Notifications to customers (confirmations, reminders): produced in the
-- transaction of the change or the timer, then taken by a node's worker,
-- which asks the tenant's synchronous "before" hook, sends the e-mail and
-- emits notification.created. The log says what happened.
CREATE TABLE sched_notifications (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    appointment_id TEXT NOT NULL,
    kind           TEXT NOT NULL,            -- confirmation | reminder
    channel        TEXT NOT NULL,            -- email | sms
    data           TEXT NOT NULL,            -- notification.created's data
    status         TEXT NOT NULL,            -- pending | sent | skipped | failed
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        BIGINT NOT NULL,          -- due, or the end of a worker's lease
    decision       TEXT NOT NULL DEFAULT '', -- the sync hook's answer, once asked
    log            TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX sched_notifications_due ON sched_notifications (next_at) WHERE status = 'pending';
CREATE INDEX sched_notifications_tenant ON sched_notifications (tenant_id, id);

-- Synchronous "before" hooks: asked before a notification goes out.
CREATE TABLE sched_sync_hooks (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,                -- confirmation.before_send | reminder.before_send
    url        TEXT NOT NULL,
    timeout_ms INTEGER NOT NULL,
    secret     TEXT NOT NULL,                -- sealed signing secret (whsec_)
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- E-mail templates of a tenant's notifications (defaults when absent).
CREATE TABLE sched_email_templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,                -- confirmation | reminder
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);
