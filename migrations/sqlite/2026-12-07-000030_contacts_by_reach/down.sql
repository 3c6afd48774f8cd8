DROP TABLE contacts_to_key;
DROP INDEX customer_contacts_email_key;
DROP INDEX customer_contacts_mobile_key;
DROP INDEX customer_contacts_phone_key;
ALTER TABLE customer_contacts DROP COLUMN email_key;
ALTER TABLE customer_contacts DROP COLUMN mobile_key;
ALTER TABLE customer_contacts DROP COLUMN phone_key;
