ALTER TABLE customers DROP COLUMN credit_problems;
ALTER TABLE customers DROP COLUMN competitor_relations;
ALTER TABLE customers DROP COLUMN attitude_to_us;
ALTER TABLE customers DROP COLUMN sales_history;
ALTER TABLE customers DROP COLUMN business_policy;
