-- Measured GPU energy, coverage and job occupancy per (host, gpu, hour): the unit of attribution,
-- for the hours in [window_start, window_end).
WITH telemetry AS (
    SELECT
        host, gpu, hour_start,
        sum(energy_kwh) AS energy_kwh,
        sum(covered_s) AS covered_s,
        sum(intervals) AS intervals,
        sum(counter_intervals) AS counter_intervals,
        sum(counter_resets) AS counter_resets,
        sum(util_pct_x_s) / nullif(sum(covered_s), 0) AS util_pct
    FROM (
        -- a fixed input order keeps the float sums identical from run to run
        SELECT * FROM intermediate.telemetry_energy_hourly
        WHERE component = 'gpu'
            AND hour_start >= CAST($window_start AS TIMESTAMP)
            AND hour_start < CAST($window_end AS TIMESTAMP)
        ORDER BY host, gpu, hour_start, partition_day
    )
    GROUP BY host, gpu, hour_start
),
occupancy AS (
    SELECT host, gpu, hour_start, sum(alloc_s) AS alloc_s, count(DISTINCT job_id) AS jobs
    FROM intermediate.allocation_hourly
    WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY host, gpu, hour_start
)
SELECT
    t.host,
    h.site,
    t.gpu,
    t.hour_start,
    t.energy_kwh AS energy_gpu_kwh,
    t.covered_s,
    least(t.covered_s / 3600.0, 1.0) AS coverage,
    t.intervals,
    t.counter_intervals,
    t.counter_resets,
    CASE
        WHEN t.counter_intervals = t.intervals THEN 'counter'
        WHEN t.counter_intervals = 0 THEN 'power_integral'
        ELSE 'mixed'
    END AS method,
    t.util_pct,
    coalesce(o.alloc_s, 0) AS alloc_s,
    coalesce(o.jobs, 0) AS jobs,
    -- Jobs share the GPU-hour by overlap time; time with no job is unallocated capacity.
    greatest(3600.0, coalesce(o.alloc_s, 0)) AS share_denominator_s,
    CAST(t.hour_start AS DATE) AS partition_day
FROM telemetry AS t
JOIN staging.hosts AS h USING (host)
LEFT JOIN occupancy AS o USING (host, gpu, hour_start)
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY t.hour_start, t.host, t.gpu
