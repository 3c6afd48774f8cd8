-- Each server process's sync floor (clientele_persistence::sync_floors):
-- a moment before which that process will commit no change it has not
-- committed already. Several servers on one PostgreSQL read each other's,
-- so `X-Changes-Complete-Until` covers every process's writes, not one's
-- own. `published_at` is the database's clock, so a process that stopped
-- publishing (it died, and its transactions with it) is left out after a
-- while. One process on SQLite has no one to tell; the table stays empty.
CREATE TABLE sync_floors (
    process_id TEXT PRIMARY KEY,
    floor TIMESTAMP NOT NULL,
    published_at TIMESTAMP NOT NULL
);
