-- Outside access (CUS-09): the request names who will show the file to the
-- outside party and read it under the approval (until now the requester,
-- who could see the file anyway); the legal office can end an approved
-- access before its time: who ended it, when and why.
ALTER TABLE outside_access_requests DROP CONSTRAINT outside_access_requests_status_check;
ALTER TABLE outside_access_requests ADD CONSTRAINT outside_access_requests_status_check
    CHECK (status IN ('pending', 'approved', 'refused', 'revoked'));
ALTER TABLE outside_access_requests ADD COLUMN revoked_by TEXT REFERENCES users (id);
ALTER TABLE outside_access_requests ADD COLUMN revoked_at TIMESTAMP;
ALTER TABLE outside_access_requests ADD COLUMN revocation_note TEXT;
ALTER TABLE outside_access_requests ADD COLUMN reader_id TEXT REFERENCES users (id);
UPDATE outside_access_requests SET reader_id = requested_by;
ALTER TABLE outside_access_requests ALTER COLUMN reader_id SET NOT NULL;
CREATE INDEX ix_outside_access_reader ON outside_access_requests (reader_id, status);
