INSERT INTO read_register_files (customer_id, entry_id)
SELECT DISTINCT f.value, e.id
FROM read_register_unindexed u
JOIN read_register e ON e.id = u.entry_id, json_each(e.customer_ids) f
WHERE true
ON CONFLICT DO NOTHING;
DROP TABLE read_register_unindexed;
