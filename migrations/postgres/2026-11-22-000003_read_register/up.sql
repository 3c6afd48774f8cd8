-- The read register (CUS-08), one entry per request that showed files: who,
-- when, what, from where, and the ids of the files shown (a JSON array).
-- One narrow row per file shown finds a file's reads. A page of 20 files
-- costs one entry and 20 index rows instead of 20 wide rows with 3 indexes.
CREATE TABLE read_register (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT,
    grant_id TEXT,
    client_ip TEXT,
    request_id TEXT,
    customer_ids TEXT NOT NULL
);
CREATE INDEX ix_read_register_actor ON read_register (actor_id, id);

CREATE TABLE read_register_files (
    customer_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, entry_id)
);

INSERT INTO read_register (id, at, actor_id, action, detail, grant_id, client_ip, request_id, customer_ids)
SELECT id, at, actor_id, action, detail, grant_id, client_ip, request_id, json_build_array(customer_id)::text
FROM customer_access_log;
INSERT INTO read_register_files (customer_id, entry_id)
SELECT customer_id, id FROM customer_access_log;
DROP TABLE customer_access_log;

CREATE TRIGGER read_register_no_change BEFORE UPDATE OR DELETE ON read_register
FOR EACH ROW EXECUTE FUNCTION clientele_append_only();
CREATE TRIGGER read_register_files_no_change BEFORE UPDATE OR DELETE ON read_register_files
FOR EACH ROW EXECUTE FUNCTION clientele_append_only();
