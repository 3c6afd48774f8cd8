-- A list filtered by a value that few of the files in the caller's sight
-- hold gathers those files from an index of the filter's own, and the
-- count that tells a rare value from a common one is read there
-- (clientele_persistence::list_routes). Each such index carries what
-- decides whether a file is in sight (unit, secrecy level, shared), so
-- that both are read from the index alone. Without them a page of such a
-- value passed over nearly every file: 0.4-6 s among a million.
CREATE INDEX ix_customers_nature ON customers (nature, owner_unit_id, secrecy_level, shared);
CREATE INDEX ix_customers_industry ON customers (industry, owner_unit_id, secrecy_level, shared);
CREATE INDEX ix_customers_type ON customers (customer_type, owner_unit_id, secrecy_level, shared);
DROP INDEX ix_customers_region;
CREATE INDEX ix_customers_region ON customers (region_code, owner_unit_id, secrecy_level, shared);
DROP INDEX ix_customers_owner;
CREATE INDEX ix_customers_owner ON customers (owner_user_id, owner_unit_id, secrecy_level, shared);
DROP INDEX ix_customers_vulnerable_name;
CREATE INDEX ix_customers_vulnerable_name ON customers
    (vulnerable, name_sort, id, owner_unit_id, secrecy_level, shared);
DROP INDEX ix_customers_unit_name;
CREATE INDEX ix_customers_unit_name ON customers (owner_unit_id, name, id, secrecy_level, shared);
