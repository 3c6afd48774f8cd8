DROP INDEX IF EXISTS ix_read_register_grant;
