-- Replays of a delivery, counted on the original: only replays are in
-- this index, so ordinary deliveries do not pay for it.
CREATE INDEX deliveries_replays ON deliveries (replay_of) WHERE replay_of IS NOT NULL;
