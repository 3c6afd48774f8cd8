-- The schema is unchanged; the forms are blanked again, for the
-- application that runs the migrations next to recompute by its rules.
UPDATE customers SET name_normalized = '' WHERE name ~ '[^\x01-\x7e]';
