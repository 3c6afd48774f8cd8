ALTER TABLE secrecy_levels DROP COLUMN version;
