-- The legal office can end an approved outside access before its time
-- (CUS-09): who ended it, when and why.
ALTER TABLE outside_access_requests DROP CONSTRAINT outside_access_requests_status_check;
ALTER TABLE outside_access_requests ADD CONSTRAINT outside_access_requests_status_check
    CHECK (status IN ('pending', 'approved', 'refused', 'revoked'));
ALTER TABLE outside_access_requests ADD COLUMN revoked_by TEXT REFERENCES users (id);
ALTER TABLE outside_access_requests ADD COLUMN revoked_at TIMESTAMP;
ALTER TABLE outside_access_requests ADD COLUMN revocation_note TEXT;
