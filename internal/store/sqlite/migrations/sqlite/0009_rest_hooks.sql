-- REST Hooks (Zapier, Power Automate): endpoints a subscriber created and
-- removes itself; a 410 from the target deletes them.
ALTER TABLE endpoints ADD COLUMN rest_hook INTEGER NOT NULL DEFAULT 0;
