-- Nothing to do on SQLite. The webhook fan-out's query for the events not
-- yet fanned out (`published_at IS NULL ORDER BY id`) is served here by
-- ix_outbox_unpublished (published_at, id): SQLite searches the NULLs and
-- reads them in id order. On PostgreSQL this migration adds a partial index
-- (the planner there walked the primary key instead).
SELECT 1;
