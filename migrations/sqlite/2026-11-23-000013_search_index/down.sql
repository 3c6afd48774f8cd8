DROP TRIGGER customer_search_update;
DROP TRIGGER customer_search_insert;
DROP TABLE customer_search_rows;
DROP TABLE customer_search;
