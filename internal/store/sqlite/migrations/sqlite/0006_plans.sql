-- Plans now limit endpoints; "free", the old default for a tenant created
-- without a plan, becomes "basic", the new default. Other plan names are
-- kept (one the plan table does not know has no limit of its own).
UPDATE tenants SET plan = 'basic' WHERE plan = 'free';
