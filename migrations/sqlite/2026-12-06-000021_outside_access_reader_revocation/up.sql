-- Outside access (CUS-09): the request names who will show the file to the
-- outside party and read it under the approval (until now the requester,
-- who could see the file anyway); the legal office can end an approved
-- access before its time: who ended it, when and why. SQLite changes a
-- CHECK only by building the table anew; no other table refers to this one.
CREATE TABLE outside_access_requests_new (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    outside_party TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 90),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'revoked')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    valid_until TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    revoked_by TEXT REFERENCES users (id),
    revoked_at TIMESTAMP,
    revocation_note TEXT,
    reader_id TEXT NOT NULL REFERENCES users (id)
);
INSERT INTO outside_access_requests_new (id, customer_id, requested_by, outside_party, purpose,
    legal_basis, days, status, decided_by, decided_at, decision_note, valid_until, version, created_at,
    reader_id)
SELECT id, customer_id, requested_by, outside_party, purpose, legal_basis, days, status,
    decided_by, decided_at, decision_note, valid_until, version, created_at, requested_by
FROM outside_access_requests;
DROP TABLE outside_access_requests;
ALTER TABLE outside_access_requests_new RENAME TO outside_access_requests;
CREATE INDEX ix_outside_access_customer ON outside_access_requests (customer_id);
CREATE INDEX ix_outside_access_requester ON outside_access_requests (requested_by, status);
CREATE INDEX ix_outside_access_reader ON outside_access_requests (reader_id, status);
