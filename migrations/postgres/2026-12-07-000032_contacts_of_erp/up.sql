-- A contact may carry the id an ERP or finance system keeps it by, so that
-- a contacts import (POST /customers/contacts/import) changes the contact
-- it names instead of adding it again. Kept once a file by the
-- application (a merge may bring two together; an import then refuses
-- the row as ambiguous), looked up within a file.
ALTER TABLE customer_contacts ADD COLUMN external_id TEXT;
CREATE INDEX customer_contacts_external_id ON customer_contacts (customer_id, external_id);
