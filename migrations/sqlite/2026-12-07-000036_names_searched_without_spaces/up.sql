-- A name is searched without its spaces (clientele_customers::name::
-- name_search_form): 深圳市 ABC 科技有限公司 is found by `ABC科技`.
-- Blanking the normal form of every name with a space has the
-- application recompute its forms right after the migrations run.
UPDATE customers SET name_normalized = '' WHERE name LIKE '% %';
