-- PostgreSQL indexes name and mnemonic searches by trigrams here. SQLite
-- keeps searching them by reading the candidate files (see docs/decisions.md,
-- "Search indexes"); the version exists on both backends so their histories
-- stay alike.
SELECT 1;
