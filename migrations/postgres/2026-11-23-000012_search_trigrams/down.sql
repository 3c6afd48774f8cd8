DROP INDEX IF EXISTS ix_customers_mnemonic_trgm;
DROP INDEX IF EXISTS ix_customers_name_trgm;
