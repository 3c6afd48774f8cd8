DROP INDEX ix_customers_mnemonic_grams;
DROP INDEX ix_customers_name_grams;
DROP FUNCTION customer_search_grams(text);
