DROP INDEX ix_read_register_grant;
