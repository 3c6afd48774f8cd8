DROP INDEX ix_customers_vulnerable_name;
CREATE INDEX ix_customers_vulnerable_name ON customers (vulnerable, name, id);
DROP INDEX ix_customers_name;
CREATE INDEX ix_customers_name ON customers
    (name, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code, status);
DROP INDEX ix_customers_status_name;
CREATE INDEX ix_customers_status_name ON customers
    (status, name, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code);
ALTER TABLE customers DROP COLUMN name_sort;
