-- The fleet-wide embodied note repeated on every row of marts.data_quality, once each (none in older
-- warehouses, which lack the column).
SELECT DISTINCT embodied_missing_criteria
FROM (FROM marts.data_quality UNION ALL BY NAME SELECT NULL AS embodied_missing_criteria WHERE false)
WHERE embodied_missing_criteria IS NOT NULL
ORDER BY 1
