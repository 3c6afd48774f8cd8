-- Lists sorted by name follow pinyin (阿里 < 北京 < 中国), the same on both
-- backends: the key is computed by the application (clientele_customers::
-- name::sort_key) and filled in for existing files right after the
-- migrations run. The name-ordered indexes move to it.
ALTER TABLE customers ADD COLUMN name_sort TEXT NOT NULL DEFAULT '';
DROP INDEX ix_customers_status_name;
CREATE INDEX ix_customers_status_name ON customers
    (status, name_sort, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code);
DROP INDEX ix_customers_name;
CREATE INDEX ix_customers_name ON customers
    (name_sort, id, owner_unit_id, secrecy_level, shared, merged_into_id, region_code, status);
DROP INDEX ix_customers_vulnerable_name;
CREATE INDEX ix_customers_vulnerable_name ON customers (vulnerable, name_sort, id);
