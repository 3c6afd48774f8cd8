-- Nothing to do on SQLite: its index of short parts is an FTS5 table filled
-- by triggers through a function of the server's own (migration 000014).
-- On PostgreSQL this migration makes the grams function of the short-part
-- indexes cheap to call.
SELECT 1;
