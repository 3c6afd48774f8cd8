-- Parts of one or two characters (华联, 华: the commonest Chinese search)
-- are too short for the trigram indexes and read every candidate file:
-- ~40 ms at 100 000 files. GIN indexes over every such part of a name and
-- of its mnemonic serve them; the planner's statistics of the indexed
-- expressions tell a rare part (index) from a common one (the ordered scan
-- finds a page sooner). Plain SQL: no extension needed.
CREATE FUNCTION customer_search_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT ARRAY(
            SELECT DISTINCT substr(t, i, w)
            FROM generate_series(1, char_length(t)) AS i, (VALUES (1), (2)) AS v(w)
            WHERE i + w - 1 <= char_length(t)
        )
    $$;
CREATE INDEX ix_customers_name_grams ON customers USING gin (customer_search_grams(name_folded));
CREATE INDEX ix_customers_mnemonic_grams ON customers USING gin (customer_search_grams(name_mnemonic));
ANALYZE customers;
