-- A file's tags are also kept on its row, as a sorted JSON array, so that
-- reading a file or a page of files is one query; customer_tags stays the
-- index for filtering by tag. Both are written in the same transaction.
ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
UPDATE customers c
SET tags = (SELECT json_agg(t.tag ORDER BY t.tag)::text FROM customer_tags t WHERE t.customer_id = c.id)
WHERE EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id);

-- Lists by status in name order (the default sort) walk only the files of
-- that status instead of every file.
CREATE INDEX ix_customers_status_name ON customers (status, name, id);
