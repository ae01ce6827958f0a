-- How much of each model's IT energy is measured and at which tier, with GPU telemetry coverage
-- of its allocations and the grid fallbacks its hours used; model NULL is unallocated capacity
-- and shared infrastructure; scope 'fleet' is the whole total.
WITH rows AS (
    SELECT
        i.*,
        CASE WHEN i.row_kind = 'job' THEN j.model END AS model
    FROM intermediate.impacts_hourly AS i
    LEFT JOIN staging.jobs AS j USING (job_id)
),
per_scope AS (
    SELECT 'model' AS scope, model, energy_it_kwh, tier, grid_fallback, zone, hour_start FROM rows
    UNION ALL
    SELECT 'fleet', NULL, energy_it_kwh, tier, grid_fallback, zone, hour_start FROM rows
),
coverage AS (
    SELECT j.model, sum(t.telemetry_coverage * t.alloc_s) / nullif(sum(t.alloc_s), 0) AS telemetry_coverage
    FROM intermediate.job_tiers AS t
    JOIN staging.jobs AS j USING (job_id)
    WHERE t.tier = 'measured_sample'
    GROUP BY j.model
)
SELECT
    p.scope,
    p.model,
    sum(p.energy_it_kwh) AS energy_it_kwh,
    coalesce(sum(p.energy_it_kwh) FILTER (WHERE p.tier = 'measured_sample'), 0) AS energy_measured_sample_kwh,
    coalesce(sum(p.energy_it_kwh) FILTER (WHERE p.tier = 'measured_job'), 0) AS energy_measured_job_kwh,
    coalesce(sum(p.energy_it_kwh) FILTER (WHERE p.tier = 'estimated'), 0) AS energy_estimated_kwh,
    coalesce(sum(p.energy_it_kwh) FILTER (WHERE p.tier IN ('measured_sample', 'measured_job')), 0)
        / nullif(sum(p.energy_it_kwh), 0) AS measured_share,
    c.telemetry_coverage,
    count(DISTINCT (p.zone, p.hour_start)) FILTER (WHERE p.grid_fallback = 'interpolated') AS grid_hours_interpolated,
    count(DISTINCT (p.zone, p.hour_start)) FILTER (WHERE p.grid_fallback = 'nearest') AS grid_hours_nearest,
    count(DISTINCT (p.zone, p.hour_start)) FILTER (WHERE p.grid_fallback = 'annual_mean') AS grid_hours_annual_mean
FROM per_scope AS p
LEFT JOIN coverage AS c ON p.scope = 'model' AND c.model IS NOT DISTINCT FROM p.model
GROUP BY p.scope, p.model, c.telemetry_coverage
ORDER BY p.scope, p.model NULLS LAST
