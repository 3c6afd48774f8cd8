-- Customer type (客户类型, CUS-03), beside industry, nature and region: how
-- the customer buys from us. Unknown until set.
ALTER TABLE customers ADD COLUMN customer_type TEXT
    CHECK (customer_type IN ('end_user', 'distributor', 'agent', 'partner', 'other'));
-- Vulnerable customers (CUS-03) are few: their list starts from this index.
CREATE INDEX ix_customers_vulnerable_name ON customers (vulnerable, name, id);
