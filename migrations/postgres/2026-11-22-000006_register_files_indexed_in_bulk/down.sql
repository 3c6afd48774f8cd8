INSERT INTO read_register_files (customer_id, entry_id)
SELECT DISTINCT f.value, e.id
FROM read_register_unindexed u
JOIN read_register e ON e.id = u.entry_id
CROSS JOIN LATERAL json_array_elements_text(e.customer_ids::json) AS f(value)
ON CONFLICT DO NOTHING;
DROP TABLE read_register_unindexed;
