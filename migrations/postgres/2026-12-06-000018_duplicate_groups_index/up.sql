-- The duplicate report groups files by normalised name and decides
-- visibility on the file's own columns: with those in the index, the
-- report walks the index alone instead of reading every file's row.
-- It replaces the name-only index, whose lookups it also serves.
DROP INDEX ix_customers_normalized;
CREATE INDEX ix_customers_normalized ON customers (name_normalized, merged_into_id, secrecy_level, owner_unit_id, shared);
