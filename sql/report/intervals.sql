-- Model rows with their Monte Carlo 90 % intervals (marts.model_lifecycle *_p05 / *_p95).
-- Older warehouses lack row_type: the empty relation unioned BY NAME supplies it as NULL there.
SELECT
    model,
    total_co2e_location_kg,
    total_co2e_location_kg_p05,
    total_co2e_location_kg_p95,
    per_1000_requests_co2e_kg,
    per_1000_requests_co2e_kg_p05,
    per_1000_requests_co2e_kg_p95,
    break_even_requests,
    break_even_requests_p05,
    break_even_requests_p95
FROM (FROM marts.model_lifecycle UNION ALL BY NAME SELECT NULL AS row_type WHERE false)
WHERE model IS NOT NULL AND total_co2e_location_kg_p05 IS NOT NULL AND coalesce(row_type, 'model') = 'model'
ORDER BY model
