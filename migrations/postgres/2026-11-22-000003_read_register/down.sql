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
SELECT CASE WHEN f.n = 1 THEN r.id ELSE r.id || '-' || (f.n - 1) END,
       r.at, r.actor_id, f.value, r.action, r.detail, r.grant_id, r.client_ip, r.request_id
FROM read_register r, json_array_elements_text(r.customer_ids::json) WITH ORDINALITY AS f(value, n);
DROP TABLE read_register_files;
DROP TABLE read_register;
CREATE TRIGGER customer_access_log_no_change BEFORE UPDATE OR DELETE ON customer_access_log
FOR EACH ROW EXECUTE FUNCTION clientele_append_only();
