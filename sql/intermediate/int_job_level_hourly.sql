-- Energy per (job, hour) for jobs without GPU telemetry, spread over the job's span pro rata:
-- measured_job splits jobs.energy_kwh (GPU part from gpu_energy_kwh where given);
-- estimated is device_count x hours x power_w / 1000 (Patterson et al. 2021, without PUE), plus the
-- job's CPU and DRAM power when given as host energy: hours x (p_c + p_r + g x p_g) / 1000 (Strubell
-- et al. 2019, eq. 1, without the PUE of 1.58, which the site's PUE replaces).
-- Only the hours in [window_start, window_end): a job spanning days gives each day its own hours.
-- The tier comes from intermediate.job_tiers (whole jobs, all days): a job whose tier a later day's
-- telemetry changes keeps the earlier days' rows until those days are run again.
WITH jobs AS (
    SELECT t.*, j."start", j."end", j.energy_kwh, j.gpu_energy_kwh, j.cpu_power_w, j.dram_power_w
    FROM intermediate.job_tiers AS t
    JOIN staging.jobs AS j USING (job_id)
    WHERE t.tier IN ('measured_job', 'estimated') AND t.site IS NOT NULL
        -- the job has an hour in the window: its first hour is before the window's end and its
        -- last hour (the one holding end - 1 us, or start for a zero-length job) not before its start
        AND j."start" < CAST($window_end AS TIMESTAMP)
        AND greatest(j."end" - INTERVAL 1 MICROSECOND, j."start") >= CAST($window_start AS TIMESTAMP)
),
spans AS (
    SELECT
        *,
        unnest(generate_series(
            greatest(date_trunc('hour', "start"), CAST($window_start AS TIMESTAMP)),
            least(greatest("end" - INTERVAL 1 MICROSECOND, "start"), CAST($window_end AS TIMESTAMP) - INTERVAL 1 MICROSECOND),
            INTERVAL 1 HOUR
        )) AS hour_start
    FROM jobs
),
pieces AS (
    SELECT
        *,
        CASE
            WHEN duration_s = 0 THEN 0
            ELSE date_diff('microsecond', greatest("start", hour_start), least("end", hour_start + INTERVAL 1 HOUR)) / 1e6
        END AS overlap_s
    FROM spans
)
SELECT
    job_id,
    site,
    hour_start,
    tier,
    CASE
        WHEN tier = 'estimated' THEN device_count * overlap_s / 3600.0 * estimate_power_w / 1000.0
        WHEN gpu_energy_kwh IS NOT NULL
            THEN least(gpu_energy_kwh, energy_kwh) * (CASE WHEN duration_s = 0 THEN 1 ELSE overlap_s / duration_s END)
        ELSE 0
    END AS energy_gpu_kwh,
    CASE
        WHEN tier = 'measured_job' AND gpu_energy_kwh IS NOT NULL
            THEN greatest(energy_kwh - gpu_energy_kwh, 0) * (CASE WHEN duration_s = 0 THEN 1 ELSE overlap_s / duration_s END)
        WHEN tier = 'estimated'
            THEN (coalesce(cpu_power_w, 0) + coalesce(dram_power_w, 0)) * overlap_s / 3600.0 / 1000.0
        ELSE 0
    END AS energy_host_other_kwh,
    CASE
        WHEN tier = 'measured_job' AND gpu_energy_kwh IS NULL
            THEN energy_kwh * (CASE WHEN duration_s = 0 THEN 1 ELSE overlap_s / duration_s END)
        ELSE 0
    END AS energy_unsplit_kwh,
    coalesce(device_count, 0) * overlap_s AS gpu_s,
    CAST(hour_start AS DATE) AS partition_day
FROM pieces
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY hour_start, job_id
