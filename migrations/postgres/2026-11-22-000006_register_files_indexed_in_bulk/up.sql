-- A read register entry (CUS-08) is written in the request that made the
-- read, with the ids of the files it showed. The per-file rows that find a
-- file's reads are derived from it: they are now written in bulk, a few
-- times a second, instead of one row per file in every request's commit.
-- An entry whose per-file rows are not written yet is listed here, in the
-- same statement as the entry, so a crash loses nothing; readers of a
-- file's log write the pending rows first.
CREATE TABLE read_register_unindexed (
    entry_id TEXT PRIMARY KEY NOT NULL
);
