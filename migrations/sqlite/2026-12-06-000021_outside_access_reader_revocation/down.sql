CREATE TABLE outside_access_requests_old (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    outside_party TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 90),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    valid_until TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO outside_access_requests_old (id, customer_id, requested_by, outside_party, purpose,
    legal_basis, days, status, decided_by, decided_at, decision_note, valid_until, version, created_at)
SELECT id, customer_id, requested_by, outside_party, purpose, legal_basis, days,
    CASE status WHEN 'revoked' THEN 'approved' ELSE status END,
    decided_by, decided_at, decision_note,
    CASE status WHEN 'revoked' THEN revoked_at ELSE valid_until END,
    version, created_at
FROM outside_access_requests;
DROP TABLE outside_access_requests;
ALTER TABLE outside_access_requests_old RENAME TO outside_access_requests;
CREATE INDEX ix_outside_access_customer ON outside_access_requests (customer_id);
CREATE INDEX ix_outside_access_requester ON outside_access_requests (requested_by, status);
