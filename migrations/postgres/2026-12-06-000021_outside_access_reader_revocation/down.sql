DROP INDEX ix_outside_access_reader;
ALTER TABLE outside_access_requests DROP COLUMN reader_id;
UPDATE outside_access_requests SET status = 'approved', valid_until = revoked_at WHERE status = 'revoked';
ALTER TABLE outside_access_requests DROP COLUMN revocation_note;
ALTER TABLE outside_access_requests DROP COLUMN revoked_at;
ALTER TABLE outside_access_requests DROP COLUMN revoked_by;
ALTER TABLE outside_access_requests DROP CONSTRAINT outside_access_requests_status_check;
ALTER TABLE outside_access_requests ADD CONSTRAINT outside_access_requests_status_check
    CHECK (status IN ('pending', 'approved', 'refused'));
