-- Scheduling core (package scheduling), schema version 2. Portable SQL that
-- runs unchanged on SQLite and PostgreSQL: TEXT ids, BIGINT Unix-millisecond
-- times, JSON kept in TEXT columns. Cascading rules live in package
-- scheduling (they emit events); the foreign keys here are a safety net.
CREATE TABLE sched_company (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE sched_resources (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    booking_seq   BIGINT NOT NULL DEFAULT 0, -- bumped by every booking: serialises bookings of one resource
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX sched_resources_tenant ON sched_resources (tenant_id, id);

CREATE TABLE sched_shifts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL REFERENCES sched_resources(id) ON DELETE CASCADE,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sched_shifts_tenant ON sched_shifts (tenant_id, id);
CREATE INDEX sched_shifts_resource ON sched_shifts (resource_id, start_at);

CREATE TABLE sched_service_groups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sched_service_groups_tenant ON sched_service_groups (tenant_id, id);

CREATE TABLE sched_services (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    price            DOUBLE PRECISION NOT NULL DEFAULT 0,
    currency         TEXT NOT NULL,
    service_group_id TEXT REFERENCES sched_service_groups(id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX sched_services_tenant ON sched_services (tenant_id, id);
CREATE INDEX sched_services_group ON sched_services (service_group_id);

CREATE TABLE sched_customer_fields (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    field_key  TEXT NOT NULL,
    label      TEXT NOT NULL,
    field_type TEXT NOT NULL,
    options    TEXT NOT NULL DEFAULT '[]',  -- JSON array, for type select
    required   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sched_customer_fields_key ON sched_customer_fields (tenant_id, field_key);
CREATE INDEX sched_customer_fields_tenant ON sched_customer_fields (tenant_id, id);

CREATE TABLE sched_customers (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX sched_customers_tenant ON sched_customers (tenant_id, id);

CREATE TABLE sched_managers (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sched_managers_tenant ON sched_managers (tenant_id, id);

CREATE TABLE sched_appointments (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    start_at       BIGINT NOT NULL,
    end_at         BIGINT NOT NULL,
    customer_id    TEXT REFERENCES sched_customers(id) ON DELETE SET NULL,
    service_id     TEXT REFERENCES sched_services(id) ON DELETE SET NULL,
    location       TEXT NOT NULL DEFAULT '',
    subject        TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    custom_fields  TEXT NOT NULL DEFAULT '{}',
    origin         TEXT NOT NULL,
    status         TEXT NOT NULL,
    source_app     TEXT NOT NULL DEFAULT '',
    source_type    TEXT NOT NULL DEFAULT '',
    source_job_no  TEXT NOT NULL DEFAULT '',
    source_task_no TEXT NOT NULL DEFAULT '',
    cancel_reason  TEXT NOT NULL DEFAULT '',
    cancelled_by   TEXT NOT NULL DEFAULT '',
    cancelled_at   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX sched_appointments_tenant ON sched_appointments (tenant_id, id);
CREATE INDEX sched_appointments_customer ON sched_appointments (customer_id, end_at);
CREATE INDEX sched_appointments_service ON sched_appointments (service_id, end_at);

-- One row per (appointment, resource), joined with sched_appointments by
-- the overlap check; position keeps the order of resource_ids.
CREATE TABLE sched_appointment_resources (
    appointment_id TEXT NOT NULL REFERENCES sched_appointments(id) ON DELETE CASCADE,
    resource_id    TEXT NOT NULL REFERENCES sched_resources(id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    position       BIGINT NOT NULL,
    PRIMARY KEY (appointment_id, resource_id)
);
CREATE INDEX sched_appointment_resources_resource ON sched_appointment_resources (resource_id);

CREATE TABLE sched_group_events (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    start_at     BIGINT NOT NULL,
    end_at       BIGINT NOT NULL,
    capacity     BIGINT NOT NULL,
    booked       BIGINT NOT NULL DEFAULT 0,
    resource_ids TEXT NOT NULL DEFAULT '[]',  -- JSON array of resource ids
    service_id   TEXT REFERENCES sched_services(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX sched_group_events_tenant ON sched_group_events (tenant_id, id);

CREATE TABLE sched_group_event_bookings (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    group_event_id TEXT NOT NULL REFERENCES sched_group_events(id) ON DELETE CASCADE,
    customer_id    TEXT NOT NULL REFERENCES sched_customers(id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    cancelled_at   BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX sched_group_event_bookings_event ON sched_group_event_bookings (group_event_id, id);
CREATE INDEX sched_group_event_bookings_customer ON sched_group_event_bookings (customer_id);
