-- A customer is found by how one of its contacts is reached: a caller's
-- number or a sender's address (GET /customers?contact=…). Each number and
-- address is stored beside itself as its key (clientele_customers::reach),
-- which the application computes: the contacts from before are listed
-- here, and the application keys them right after the migrations run and
-- takes each off the list (clientele_persistence::stored_forms::key_contacts).
ALTER TABLE customer_contacts ADD COLUMN phone_key TEXT;
ALTER TABLE customer_contacts ADD COLUMN mobile_key TEXT;
ALTER TABLE customer_contacts ADD COLUMN email_key TEXT;
CREATE INDEX customer_contacts_phone_key ON customer_contacts (phone_key);
CREATE INDEX customer_contacts_mobile_key ON customer_contacts (mobile_key);
CREATE INDEX customer_contacts_email_key ON customer_contacts (email_key);
CREATE TABLE contacts_to_key (contact_id TEXT PRIMARY KEY NOT NULL);
INSERT INTO contacts_to_key (contact_id)
SELECT id FROM customer_contacts
WHERE phone IS NOT NULL OR mobile IS NOT NULL OR email IS NOT NULL;
