DROP INDEX ix_customers_name;
CREATE INDEX ix_customers_name ON customers (name, id);
DROP INDEX ix_customers_status_name;
CREATE INDEX ix_customers_status_name ON customers (status, name, id);
