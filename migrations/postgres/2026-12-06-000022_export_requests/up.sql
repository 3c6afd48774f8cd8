-- Export requests (CUS-08: files never leave the archive without
-- permission). Someone whose role does not export asks for the files a
-- filter finds, saying why; a manager over their unit approves or refuses.
-- An approval lets the requester, and nobody else, export those files for
-- the days approved, each export registered under the request. The
-- requester may withdraw a request still pending.
-- `unit_path` is the requester's unit when asking: the managers above it
-- see the request.
CREATE TABLE export_requests (
    id TEXT PRIMARY KEY NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    unit_path TEXT NOT NULL,
    filter TEXT NOT NULL,
    purpose TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 7),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'withdrawn')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    valid_until TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_export_requests_requester ON export_requests (requested_by, id);
CREATE INDEX ix_export_requests_unit ON export_requests (unit_path, id);
