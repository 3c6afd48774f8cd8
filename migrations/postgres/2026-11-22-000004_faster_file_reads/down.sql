DROP INDEX ix_customers_status_name;
ALTER TABLE customers DROP COLUMN tags;
