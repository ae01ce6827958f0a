-- The factor tables and versions the warehouse was built with (row count NULL in older warehouses).
SELECT factor_table, version, left(sha256, 12) AS sha256, rows, sources
FROM (FROM audit.factor_sets UNION ALL BY NAME SELECT NULL AS rows WHERE false)
ORDER BY factor_table, version
