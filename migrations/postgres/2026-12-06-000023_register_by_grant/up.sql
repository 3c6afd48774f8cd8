-- Finds the reads made under one grant (an outside-access request or an
-- export request): `GET /access-register?grant_id=`. Partial: most entries
-- carry no grant, and their commits do not touch this index.
CREATE INDEX ix_read_register_grant ON read_register (grant_id, id) WHERE grant_id IS NOT NULL;
