-- The mnemonic code (助记码) of a file's name: the initials of its pinyin,
-- letters and digits as they are (北京华联商贸 → bjhlsm), for the quick
-- search of lists. Computed by the application (clientele_customers::name::
-- mnemonic) and filled in for existing files right after the migrations run.
ALTER TABLE customers ADD COLUMN name_mnemonic TEXT NOT NULL DEFAULT '';
