-- Parts of one or two characters (华联, 华: the commonest Chinese search)
-- are too short for the trigram table and read every candidate file:
-- ~85 ms at 100 000 files. A second FTS5 table holds every such part of a
-- name and of its mnemonic as one word (`clientele_search_grams`, a
-- function every connection of the server registers: code points in hex,
-- so that punctuation is a word too). It stores no text of its own
-- (contentless) and shares the rowids of customer_search.
CREATE VIRTUAL TABLE customer_grams USING fts5(
    name_grams, mnemonic_grams, content = '', contentless_delete = 1
);
INSERT INTO customer_grams (rowid, name_grams, mnemonic_grams)
    SELECT rowid, clientele_search_grams(name_folded), clientele_search_grams(name_mnemonic)
    FROM customer_search;
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
