-- Tags are folded like a name's search form (clientele_customers::Tag::fold):
-- traditional characters as simplified, inner runs of white space as one.
-- The fold is computed by the application: the files whose tags it can
-- change (those with a character outside printable ASCII, or two spaces in
-- a row) are listed here, and the application refolds their tags right
-- after the migrations run and takes each off the list
-- (clientele_persistence::stored_forms::fold_stored_tags).
CREATE TABLE tags_to_fold (customer_id TEXT PRIMARY KEY NOT NULL);
INSERT INTO tags_to_fold (customer_id)
SELECT DISTINCT customer_id FROM customer_tags
WHERE tag GLOB '*[^ -~]*' OR tag LIKE '%  %';
