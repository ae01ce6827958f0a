-- Every zone-hour with energy has an intensity (reported or a labelled fallback).
SELECT
    count(*) = 0 AS passed,
    count(*) AS zone_hours_missing,
    string_agg(DISTINCT zone || ' ' || year(hour_start), ', ' ORDER BY zone || ' ' || year(hour_start)) AS zone_years,
    min(hour_start) AS first_missing_hour,
    max(hour_start) AS last_missing_hour
FROM intermediate.grid_hourly
WHERE fallback = 'missing' OR gco2e_per_kwh IS NULL
