-- Since session 21 a name is stored without invisible characters
-- (clientele_customers::name::is_invisible: U+00AD, U+061C, U+180E,
-- U+200B-U+200F, U+202A-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF);
-- files saved before kept theirs until their next save. They are listed
-- here, and the application rewrites their names right after the
-- migrations run, as a change the history shows, and takes each off the
-- list (clientele_persistence::stored_forms::fold_stored_names).
CREATE TABLE names_to_fold (customer_id TEXT PRIMARY KEY NOT NULL);
INSERT INTO names_to_fold (customer_id)
SELECT id FROM customers
WHERE name GLOB '*[' || char(173, 1564, 6158, 8203) || '-' || char(8207, 8234) || '-'
    || char(8238, 8288) || '-' || char(8292, 8294) || '-' || char(8297, 65279) || ']*';
