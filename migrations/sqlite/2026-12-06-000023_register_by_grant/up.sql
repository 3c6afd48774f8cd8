-- On SQLite the register's tables live in a file of their own once
-- migrations have run (`register_file.rs`), and SQLite creates an index
-- only beside its table, named by schema: this migration cannot know which
-- file holds the table. `register_file::settle` creates the index of this
-- version, `ix_read_register_grant`, in the register's file after every
-- migration run (see `register_file::INDEXES`).
SELECT 1;
