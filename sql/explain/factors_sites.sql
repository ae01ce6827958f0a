-- PUE, WUE and EWIF that the selected hours used, per site and validity window.
SELECT
    r.site,
    s.pue,
    s.wue_l_per_kwh,
    s.ewif_l_per_kwh,
    s.valid_from,
    min(r.hour_start) AS first_hour,
    max(r.hour_start) AS last_hour,
    count(DISTINCT r.hour_start) AS hours,
    s.site_source_file,
    s.site_source_row
FROM _explain_rows AS r
JOIN intermediate.site_hourly AS s USING (site, hour_start)
GROUP BY r.site, s.pue, s.wue_l_per_kwh, s.ewif_l_per_kwh, s.valid_from, s.site_source_file, s.site_source_row
ORDER BY r.site, first_hour
