DROP INDEX ix_outbox_to_fan_out;
