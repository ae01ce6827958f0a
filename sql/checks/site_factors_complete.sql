-- Every site-hour with energy has a zone and a PUE; otherwise facility energy and carbon are unknown.
SELECT
    count(*) = 0 AS passed,
    count(*) AS site_hours_missing,
    string_agg(DISTINCT site, ', ' ORDER BY site) AS sites,
    min(hour_start) AS first_missing_hour,
    max(hour_start) AS last_missing_hour
FROM intermediate.site_hourly
WHERE pue IS NULL OR zone IS NULL
