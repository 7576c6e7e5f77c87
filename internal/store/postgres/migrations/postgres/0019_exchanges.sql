-- Raw exchanges: the headers of each attempt's request (secrets masked)
-- and answer, as "Name: value" lines, at most 4 KiB each.
ALTER TABLE attempts ADD COLUMN request_headers TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN response_headers TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN inline_req_headers TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN inline_resp_headers TEXT NOT NULL DEFAULT '';
