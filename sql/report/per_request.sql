-- One per-request curve per model (not families, not the unallocated row).
-- Older warehouses lack row_type: the empty relation unioned BY NAME supplies it as NULL there.
SELECT
    model,
    marginal_per_1000_requests_co2e_kg,
    upfront_co2e_kg,
    break_even_requests,
    lifetime_requests_used,
    lifetime_requests_basis,
    per_1000_requests_co2e_kg
FROM (FROM marts.model_lifecycle UNION ALL BY NAME SELECT NULL AS row_type WHERE false)
WHERE model IS NOT NULL AND coalesce(row_type, 'model') = 'model'
ORDER BY model
