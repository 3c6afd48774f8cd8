-- Secrecy levels are configuration administrators change (CUS-07): each
-- carries the version its ETag names, as every other changeable resource.
ALTER TABLE secrecy_levels ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
