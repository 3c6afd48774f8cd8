-- The name-ordered list indexes also carry the columns that decide whether
-- a file is shown (owner unit, secrecy level, shared, merged, region,
-- status), so a page skips the files it may not show without reading their
-- rows: only the files on the page are read.
DROP INDEX ix_customers_status_name;
CREATE INDEX ix_customers_status_name ON customers
    (status, name, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code);
DROP INDEX ix_customers_name;
CREATE INDEX ix_customers_name ON customers
    (name, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code, status);
