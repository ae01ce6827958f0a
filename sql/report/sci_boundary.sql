-- The SCI boundary notes of marts.model_lifecycle (none in older warehouses, which lack the column).
SELECT DISTINCT sci_boundary
FROM (FROM marts.model_lifecycle UNION ALL BY NAME SELECT NULL AS sci_boundary WHERE false)
WHERE sci_boundary IS NOT NULL
ORDER BY 1
