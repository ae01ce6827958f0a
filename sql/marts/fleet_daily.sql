-- Per (site, UTC date): GPU capacity seen by telemetry, allocation share and mean utilisation,
-- measured IT energy against what was attributed to jobs, left as unallocated capacity or
-- reported as shared infrastructure, and the idle share (unallocated / measured).
WITH gpu AS (
    SELECT
        site,
        CAST(hour_start AS DATE) AS date,
        count(*) AS gpu_hours_observed,
        sum(covered_s) / 3600.0 AS gpu_hours_covered,
        sum(least(alloc_s, 3600.0)) / 3600.0 AS gpu_hours_allocated,
        sum(util_pct * covered_s) / nullif(sum(covered_s) FILTER (WHERE util_pct IS NOT NULL), 0) AS mean_util_pct,
        sum(energy_gpu_kwh) AS measured_gpu_kwh,
        sum(counter_resets) AS counter_resets
    FROM intermediate.gpu_hourly
    GROUP BY site, CAST(hour_start AS DATE)
),
other AS (
    SELECT
        site,
        CAST(hour_start AS DATE) AS date,
        sum(energy_kwh) FILTER (WHERE role = 'compute') AS measured_host_other_kwh,
        sum(energy_kwh) FILTER (WHERE role <> 'compute') AS measured_shared_kwh
    FROM intermediate.host_other_hourly
    GROUP BY site, CAST(hour_start AS DATE)
),
ledger AS (
    SELECT
        site,
        CAST(hour_start AS DATE) AS date,
        sum(energy_it_kwh) FILTER (WHERE row_kind = 'job' AND tier = 'measured_sample') AS attributed_kwh,
        sum(energy_it_kwh) FILTER (WHERE row_kind = 'unallocated') AS unallocated_kwh,
        sum(energy_it_kwh) FILTER (WHERE row_kind = 'shared_infra') AS shared_separate_kwh,
        sum(energy_it_kwh) FILTER (WHERE tier <> 'measured_sample') AS job_level_kwh,
        sum(energy_facility_kwh) AS energy_facility_kwh,
        sum(co2e_location_kg) AS co2e_location_kg,
        sum(co2e_market_kg) AS co2e_market_kg
    FROM intermediate.impacts_hourly
    GROUP BY site, CAST(hour_start AS DATE)
),
keys AS (
    SELECT site, date FROM gpu UNION SELECT site, date FROM other UNION SELECT site, date FROM ledger
)
SELECT
    k.site,
    k.date,
    coalesce(g.gpu_hours_observed, 0) AS gpu_hours_observed,
    coalesce(g.gpu_hours_covered, 0) AS gpu_hours_covered,
    coalesce(g.gpu_hours_allocated, 0) AS gpu_hours_allocated,
    g.gpu_hours_allocated / nullif(g.gpu_hours_observed, 0) AS gpu_allocation_share,
    g.mean_util_pct,
    coalesce(g.measured_gpu_kwh, 0) AS measured_gpu_kwh,
    coalesce(o.measured_host_other_kwh, 0) AS measured_host_other_kwh,
    coalesce(o.measured_shared_kwh, 0) AS measured_shared_kwh,
    coalesce(g.measured_gpu_kwh, 0) + coalesce(o.measured_host_other_kwh, 0) + coalesce(o.measured_shared_kwh, 0)
        AS measured_it_kwh,
    coalesce(l.attributed_kwh, 0) AS attributed_it_kwh,
    coalesce(l.unallocated_kwh, 0) AS unallocated_it_kwh,
    coalesce(l.shared_separate_kwh, 0) AS shared_separate_it_kwh,
    coalesce(l.job_level_kwh, 0) AS job_level_it_kwh,
    coalesce(l.unallocated_kwh, 0)
        / nullif(coalesce(g.measured_gpu_kwh, 0) + coalesce(o.measured_host_other_kwh, 0) + coalesce(o.measured_shared_kwh, 0), 0)
        AS idle_share,
    coalesce(l.energy_facility_kwh, 0) AS energy_facility_kwh,
    coalesce(l.co2e_location_kg, 0) AS operational_co2e_location_kg,
    coalesce(l.co2e_market_kg, 0) AS operational_co2e_market_kg,
    coalesce(g.counter_resets, 0) AS counter_resets
FROM keys AS k
LEFT JOIN gpu AS g USING (site, date)
LEFT JOIN other AS o USING (site, date)
LEFT JOIN ledger AS l USING (site, date)
ORDER BY k.site, k.date
