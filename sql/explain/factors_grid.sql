-- Carbon intensities the selected hours used, per zone: hour range, basis, kind, sources and fallbacks.
SELECT
    g.zone,
    g.basis,
    g.kind,
    min(g.hour_start) AS first_hour,
    max(g.hour_start) + INTERVAL 1 HOUR AS end_hour,
    count(*) AS hours,
    min(g.gco2e_per_kwh) AS min_gco2e_per_kwh,
    avg(g.gco2e_per_kwh) AS mean_gco2e_per_kwh,
    max(g.gco2e_per_kwh) AS max_gco2e_per_kwh,
    count(*) FILTER (WHERE g.fallback NOT IN ('reported', 'constant')) AS fallback_hours,
    string_agg(DISTINCT g.fallback, ',' ORDER BY g.fallback) AS fallbacks,
    string_agg(DISTINCT g.source, '; ' ORDER BY g.source) AS sources,
    string_agg(DISTINCT r.market_basis, '; ' ORDER BY r.market_basis) AS market_basis
FROM (SELECT DISTINCT zone, hour_start, market_basis FROM _explain_rows) AS r
JOIN intermediate.grid_hourly AS g USING (zone, hour_start)
GROUP BY g.zone, g.basis, g.kind
ORDER BY g.zone
