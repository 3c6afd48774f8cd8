-- A file's tags are also kept on its row, as a sorted JSON array, so that
-- reading a file or a page of files is one query; customer_tags stays the
-- index for filtering by tag. Both are written in the same transaction.
ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
UPDATE customers
SET tags = (SELECT json_group_array(tag) FROM (SELECT tag FROM customer_tags t WHERE t.customer_id = customers.id ORDER BY tag))
WHERE id IN (SELECT customer_id FROM customer_tags);

-- Lists by status in name order (the default sort) walk only the files of
-- that status instead of every file.
CREATE INDEX ix_customers_status_name ON customers (status, name, id);
