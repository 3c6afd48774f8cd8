-- SQLite gets its search index here (an FTS5 trigram table); PostgreSQL's
-- trigram indexes came with 000012. The version exists on both backends so
-- their histories stay alike.
SELECT 1;
