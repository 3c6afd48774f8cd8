-- Files merged into a file that is itself being absorbed are re-pointed at
-- the new survivor (one hop always reaches the living file); this finds
-- them without reading every file. Only absorbed files have an entry.
CREATE INDEX ix_customers_merged_into ON customers (merged_into_id) WHERE merged_into_id IS NOT NULL;
