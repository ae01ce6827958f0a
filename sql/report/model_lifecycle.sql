-- Every row of marts.model_lifecycle for the summary tables: models, then families, then the
-- unallocated-capacity row (model NULL). Older warehouses lack row_type and the market-based figure
-- per 1,000 requests: the empty relation unioned BY NAME supplies them as NULL there, and the
-- report shows those columns only where the table has them.
SELECT
    row_type,
    model,
    family,
    requests_to_date,
    expected_lifetime_requests,
    lifetime_requests_used,
    lifetime_requests_basis,
    energy_facility_kwh,
    total_co2e_location_kg,
    total_co2e_market_kg,
    operational_water_l,
    adp_kgsbeq,
    upfront_co2e_kg,
    inference_co2e_kg,
    embodied_co2e_kg,
    unallocated_co2e_kg,
    per_1000_requests_co2e_kg,
    marginal_per_1000_requests_co2e_kg,
    break_even_requests,
    sci_gco2e_per_request,
    per_1000_requests_co2e_market_kg
FROM (
    FROM marts.model_lifecycle
    UNION ALL BY NAME
    SELECT NULL AS row_type, NULL AS per_1000_requests_co2e_market_kg WHERE false
)
ORDER BY CASE row_type WHEN 'model' THEN 1 WHEN 'family' THEN 2 ELSE 3 END, model NULLS LAST
