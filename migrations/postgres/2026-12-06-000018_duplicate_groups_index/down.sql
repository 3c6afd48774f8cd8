DROP INDEX ix_customers_normalized;
CREATE INDEX ix_customers_normalized ON customers (name_normalized);
