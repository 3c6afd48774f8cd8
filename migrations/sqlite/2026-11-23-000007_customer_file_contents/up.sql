-- The rest of a file's contents (CUS-02): its business policy, its business
-- status (sales history, attitude to us, relations with competitors) and its
-- past credit problems. Free text, like the other characteristics.
ALTER TABLE customers ADD COLUMN business_policy TEXT;
ALTER TABLE customers ADD COLUMN sales_history TEXT;
ALTER TABLE customers ADD COLUMN attitude_to_us TEXT;
ALTER TABLE customers ADD COLUMN competitor_relations TEXT;
ALTER TABLE customers ADD COLUMN credit_problems TEXT;
