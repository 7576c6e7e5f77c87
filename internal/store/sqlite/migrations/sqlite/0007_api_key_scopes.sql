-- API keys get a name, their last four characters (to tell them apart in
-- lists) and scopes (a JSON array); keys made before scopes existed could
-- do everything, so they are admin keys.
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last4 TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '["admin"]';
