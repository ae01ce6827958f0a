-- ISO 14044 data-quality view: for each model (NULL = unallocated capacity and shared rows) and
-- criterion, the total and its shares by data tier, GPU telemetry coverage, grid-intensity
-- fallback hours, how the embodied part was valued, and which criteria are missing. Jobs measured or
-- estimated per job without a device count have unknown (NULL) embodied impact; they are counted.
WITH rows AS (
    SELECT
        CASE WHEN i.row_kind = 'job' THEN j.model END AS model,
        i.tier, i.energy_it_kwh, i.co2e_location_kg, i.grid_fallback, i.zone, i.hour_start
    FROM intermediate.impacts_hourly AS i
    LEFT JOIN staging.jobs AS j USING (job_id)
),
operational AS (
    SELECT
        model,
        'energy_it_kwh' AS criterion,
        sum(energy_it_kwh) AS total,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_sample'), 0) / nullif(sum(energy_it_kwh), 0) AS measured_sample_share,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_job'), 0) / nullif(sum(energy_it_kwh), 0) AS measured_job_share,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'estimated'), 0) / nullif(sum(energy_it_kwh), 0) AS estimated_share
    FROM rows
    GROUP BY model
    UNION ALL
    SELECT
        model,
        'operational_co2e_location_kg',
        sum(co2e_location_kg),
        coalesce(sum(co2e_location_kg) FILTER (WHERE tier = 'measured_sample'), 0) / nullif(sum(co2e_location_kg), 0),
        coalesce(sum(co2e_location_kg) FILTER (WHERE tier = 'measured_job'), 0) / nullif(sum(co2e_location_kg), 0),
        coalesce(sum(co2e_location_kg) FILTER (WHERE tier = 'estimated'), 0) / nullif(sum(co2e_location_kg), 0)
    FROM rows
    GROUP BY model
),
fallbacks AS (
    SELECT model, count(DISTINCT (zone, hour_start)) FILTER (WHERE grid_fallback NOT IN ('reported', 'constant')) AS grid_fallback_hours
    FROM rows
    GROUP BY model
),
embodied AS (
    SELECT
        CASE WHEN e.row_kind = 'job' THEN j.model END AS model,
        coalesce(a.embodied_method, 'device_default') AS method,
        sum(e.co2e_kg) AS kg
    FROM intermediate.embodied_daily AS e
    LEFT JOIN intermediate.asset_embodied AS a USING (asset_id)
    LEFT JOIN staging.jobs AS j USING (job_id)
    GROUP BY 1, 2
),
methods AS (
    SELECT model, string_agg(method || ' ' || round(kg, 3) || ' kg', '; ' ORDER BY method) AS embodied_methods
    FROM embodied
    GROUP BY model
),
unknown_embodied AS (
    SELECT j.model, count(*) AS jobs_embodied_unknown
    FROM intermediate.job_tiers AS t
    JOIN staging.jobs AS j USING (job_id)
    WHERE t.alloc_s IS NULL AND t.device_count IS NULL AND t.tier IN ('measured_job', 'estimated')
    GROUP BY j.model
),
coverage AS (
    SELECT model, telemetry_coverage FROM marts.energy_coverage WHERE scope = 'model'
),
missing AS (
    SELECT string_agg(label, '; ' ORDER BY label) AS embodied_missing
    FROM (
        SELECT DISTINCT
            kind || ' (' || concat_ws(',', CASE WHEN missing_co2e IS NOT NULL THEN 'co2e' END,
                                      nullif(missing_criteria, '')) || ')' AS label
        FROM marts.asset_embodied
        WHERE missing_co2e IS NOT NULL OR missing_criteria <> ''
    )
)
SELECT
    o.model,
    o.criterion,
    o.total,
    o.measured_sample_share,
    o.measured_job_share,
    o.estimated_share,
    c.telemetry_coverage,
    coalesce(f.grid_fallback_hours, 0) AS grid_fallback_hours,
    m.embodied_methods,
    coalesce(u.jobs_embodied_unknown, 0) AS jobs_embodied_unknown,
    (SELECT embodied_missing FROM missing) AS embodied_missing_criteria
FROM operational AS o
LEFT JOIN coverage AS c ON c.model IS NOT DISTINCT FROM o.model
LEFT JOIN fallbacks AS f ON f.model IS NOT DISTINCT FROM o.model
LEFT JOIN methods AS m ON m.model IS NOT DISTINCT FROM o.model
LEFT JOIN unknown_embodied AS u ON u.model IS NOT DISTINCT FROM o.model
ORDER BY o.model NULLS LAST, o.criterion
