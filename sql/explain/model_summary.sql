-- The answer `lca demo` and `lca run` end with: per model, its total carbon with the 90 % interval,
-- per 1,000 requests and the break-even number of requests (marts.model_lifecycle, model rows).
SELECT
    model,
    total_co2e_location_kg,
    total_co2e_location_kg_p05,
    total_co2e_location_kg_p95,
    per_1000_requests_co2e_kg,
    break_even_requests
FROM marts.model_lifecycle
WHERE row_type = 'model'
ORDER BY model
