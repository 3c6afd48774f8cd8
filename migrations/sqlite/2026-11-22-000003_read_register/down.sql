CREATE TABLE customer_access_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    grant_id TEXT,
    client_ip TEXT,
    request_id TEXT
);
CREATE INDEX ix_customer_access_customer ON customer_access_log (customer_id, id);
CREATE INDEX ix_customer_access_actor ON customer_access_log (actor_id, id);
-- One row per file read; an entry that showed several files keeps its id on
-- the first and takes derived ids for the others.
INSERT INTO customer_access_log (id, at, actor_id, customer_id, action, detail, grant_id, client_ip, request_id)
SELECT CASE WHEN f.key = 0 THEN r.id ELSE r.id || '-' || f.key END,
       r.at, r.actor_id, f.value, r.action, r.detail, r.grant_id, r.client_ip, r.request_id
FROM read_register r, json_each(r.customer_ids) f;
DROP TABLE read_register_files;
DROP TABLE read_register;
CREATE TRIGGER customer_access_log_no_update BEFORE UPDATE ON customer_access_log
BEGIN SELECT RAISE(ABORT, 'customer_access_log is append-only'); END;
CREATE TRIGGER customer_access_log_no_delete BEFORE DELETE ON customer_access_log
BEGIN SELECT RAISE(ABORT, 'customer_access_log is append-only'); END;
