-- Names in traditional characters are read as simplified for duplicates
-- and search (clientele_customers::name::search_form). The forms are
-- computed by the application: blanking the normal form of every name
-- that is not plain ASCII (the only names the change can touch) has them
-- recomputed right after the migrations run, its search form with it.
UPDATE customers SET name_normalized = '' WHERE name GLOB '*[^ -~]*';
