-- Every variant of the one-at-a-time sensitivity analysis.
SELECT model, parameter, variant, per_1000_requests_co2e_kg, total_co2e_kg, change_pct
FROM marts.sensitivity
ORDER BY model NULLS LAST, parameter, variant
