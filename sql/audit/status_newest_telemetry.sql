-- The newest hour of telemetry per site in the published database (for `lca status`).
SELECT coalesce(h.site, '(host not in hosts)') AS site, max(t.hour_start) AS newest_hour
FROM intermediate.telemetry_energy_hourly AS t
LEFT JOIN staging.hosts AS h USING (host)
GROUP BY 1
ORDER BY 1
