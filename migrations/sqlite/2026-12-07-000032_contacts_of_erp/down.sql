DROP INDEX customer_contacts_external_id;
ALTER TABLE customer_contacts DROP COLUMN external_id;
