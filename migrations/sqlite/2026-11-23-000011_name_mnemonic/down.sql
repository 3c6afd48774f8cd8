ALTER TABLE customers DROP COLUMN name_mnemonic;
