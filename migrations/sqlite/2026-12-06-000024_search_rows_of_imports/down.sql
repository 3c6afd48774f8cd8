DROP TRIGGER customer_search_insert;
CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (customer_id, name_folded, name_mnemonic)
        VALUES (new.id, new.name_folded, new.name_mnemonic);
    INSERT INTO customer_search_rows (customer_id, search_rowid)
        VALUES (new.id, last_insert_rowid());
    INSERT INTO customer_grams (rowid, name_grams, mnemonic_grams)
        VALUES ((SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id),
                clientele_search_grams(new.name_folded),
                clientele_search_grams(new.name_mnemonic));
END;
DROP TRIGGER customer_search_update;
CREATE TRIGGER customer_search_update AFTER UPDATE OF name_folded, name_mnemonic ON customers BEGIN
    UPDATE customer_search
        SET name_folded = new.name_folded, name_mnemonic = new.name_mnemonic
        WHERE rowid = (SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id);
END;
DROP TRIGGER customer_grams_update;
CREATE TRIGGER customer_grams_update AFTER UPDATE OF name_folded, name_mnemonic ON customers
WHEN old.name_folded IS NOT new.name_folded OR old.name_mnemonic IS NOT new.name_mnemonic
BEGIN
    DELETE FROM customer_grams
        WHERE rowid = (SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id);
    INSERT INTO customer_grams (rowid, name_grams, mnemonic_grams)
        VALUES ((SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id),
                clientele_search_grams(new.name_folded),
                clientele_search_grams(new.name_mnemonic));
END;
