-- Records each grid-intensity fallback used (interpolated, nearest, annual mean) per zone.
-- Reads the whole table, not the run's days: the table keeps every day built so far, so a run for
-- one day re-records the other days' fallbacks that audit/delete_assumptions cleared.
INSERT INTO audit.assumptions
SELECT
    $run_id,
    $asset,
    'zone',
    zone,
    'gco2e_per_kwh',
    fallback,
    'zone-hours',
    'no reported intensity for ' || count(*) || ' hour(s) between ' || min(hour_start) || ' and ' || max(hour_start)
        || '; fallback ' || fallback || coalesce(' of ' || max(fallback_year), '')
        || ' applied ([grid] interpolate_max_h = ' || $grid_interpolate_max_h || ')',
    'intermediate.grid_hourly',
    count(*)
FROM intermediate.grid_hourly
WHERE fallback NOT IN ('reported', 'constant', 'missing')
GROUP BY zone, fallback
ORDER BY zone, fallback
