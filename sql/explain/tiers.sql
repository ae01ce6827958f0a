-- The selection's IT energy by data-quality tier and its grid-intensity fallback hours.
SELECT
    tier,
    sum(energy_it_kwh) AS energy_it_kwh,
    count(DISTINCT (zone, hour_start)) FILTER (WHERE grid_fallback NOT IN ('reported', 'constant')) AS grid_fallback_hours
FROM _explain_rows
GROUP BY tier
ORDER BY tier
