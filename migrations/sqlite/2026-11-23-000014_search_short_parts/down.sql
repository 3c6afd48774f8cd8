DROP TRIGGER customer_grams_update;
DROP TRIGGER customer_search_insert;
CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (customer_id, name_folded, name_mnemonic)
        VALUES (new.id, new.name_folded, new.name_mnemonic);
    INSERT INTO customer_search_rows (customer_id, search_rowid)
        VALUES (new.id, last_insert_rowid());
END;
DROP TABLE customer_grams;
