CREATE OR REPLACE FUNCTION customer_search_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT ARRAY(
            SELECT DISTINCT substr(t, i, w)
            FROM generate_series(1, char_length(t)) AS i, (VALUES (1), (2)) AS v(w)
            WHERE i + w - 1 <= char_length(t)
        )
    $$;
