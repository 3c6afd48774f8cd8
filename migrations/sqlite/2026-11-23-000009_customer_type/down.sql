DROP INDEX ix_customers_vulnerable_name;
ALTER TABLE customers DROP COLUMN customer_type;
