-- Every statement that writes a file's row through these triggers opens a
-- statement savepoint in the two FTS5 tables, and FTS5 writes out what it
-- holds at every savepoint: an import wrote one tiny index segment per file
-- and table and merged them over and over (a quarter of an import's time).
-- During an import (`clientele_search_deferred()`, a flag the server sets
-- on its connection for the import's length) the insert trigger stands
-- aside and the import writes the search rows of all its new files in a
-- few statements (`new_files.rs`). The update triggers leave alone a file
-- that has no search row yet: one created earlier in the same import,
-- whose rows are written from its final name.
DROP TRIGGER customer_search_insert;
CREATE TRIGGER customer_search_insert AFTER INSERT ON customers
WHEN clientele_search_deferred() = 0
BEGIN
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
CREATE TRIGGER customer_search_update AFTER UPDATE OF name_folded, name_mnemonic ON customers
WHEN EXISTS (SELECT 1 FROM customer_search_rows WHERE customer_id = new.id)
BEGIN
    UPDATE customer_search
        SET name_folded = new.name_folded, name_mnemonic = new.name_mnemonic
        WHERE rowid = (SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id);
END;
DROP TRIGGER customer_grams_update;
CREATE TRIGGER customer_grams_update AFTER UPDATE OF name_folded, name_mnemonic ON customers
WHEN (old.name_folded IS NOT new.name_folded OR old.name_mnemonic IS NOT new.name_mnemonic)
    AND EXISTS (SELECT 1 FROM customer_search_rows WHERE customer_id = new.id)
BEGIN
    DELETE FROM customer_grams
        WHERE rowid = (SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id);
    INSERT INTO customer_grams (rowid, name_grams, mnemonic_grams)
        VALUES ((SELECT search_rowid FROM customer_search_rows WHERE customer_id = new.id),
                clientele_search_grams(new.name_folded),
                clientele_search_grams(new.name_mnemonic));
END;
