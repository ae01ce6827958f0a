-- Offsets retired per model, reported beside Scope 2 and never subtracted from it. Older warehouses
-- lack the columns: the empty relation unioned BY NAME supplies them as NULL, so no row comes back.
SELECT model, offsets_retired_tco2e
FROM (
    FROM marts.model_lifecycle
    UNION ALL BY NAME
    SELECT NULL AS row_type, NULL AS offsets_retired_tco2e WHERE false
)
WHERE offsets_retired_tco2e IS NOT NULL AND coalesce(row_type, 'model') = 'model'
ORDER BY model
