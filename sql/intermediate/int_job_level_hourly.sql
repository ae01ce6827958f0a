-- Energy per (job, hour) for jobs without GPU telemetry, spread over the job's span pro rata:
-- measured_job splits jobs.energy_kwh (GPU part from gpu_energy_kwh where given);
-- estimated is device_count x hours x power_w / 1000 (Patterson et al. 2021, without PUE), plus the
-- job's CPU and DRAM power when given as host energy: hours x (p_c + p_r + g x p_g) / 1000 (Strubell
-- et al. 2019, eq. 1, without the PUE of 1.58, which the site's PUE replaces).
WITH jobs AS (
    SELECT t.*, j."start", j."end", j.energy_kwh, j.gpu_energy_kwh, j.cpu_power_w, j.dram_power_w
    FROM intermediate.job_tiers AS t
    JOIN staging.jobs AS j USING (job_id)
    WHERE t.tier IN ('measured_job', 'estimated') AND t.site IS NOT NULL
),
spans AS (
    SELECT
        *,
        unnest(generate_series(
            date_trunc('hour', "start"),
            greatest("end" - INTERVAL 1 MICROSECOND, "start"),
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
    coalesce(device_count, 0) * overlap_s AS gpu_s
FROM pieces
ORDER BY job_id, hour_start
