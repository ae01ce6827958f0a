-- One row per job: its data-quality tier, site, and what an estimate would rest on.
-- measured_sample: GPU telemetry covers some of its allocations; measured_job: jobs.energy_kwh;
-- estimated: device_count x hours x avg_power_w, else TDP x default utilisation.
WITH telemetry_jobs AS (
    SELECT a.job_id, sum(a.alloc_s) AS covered_alloc_s, sum(a.alloc_s * g.coverage) AS observed_alloc_s
    FROM intermediate.allocation_hourly AS a
    JOIN intermediate.gpu_hourly AS g USING (host, gpu, hour_start)
    GROUP BY a.job_id
),
alloc AS (
    SELECT
        a.job_id,
        sum(alloc_s) AS alloc_s,
        count(DISTINCT (a.host, a.gpu)) AS gpus,
        min(a.site) AS site,
        min(h.gpu_model) AS gpu_model
    FROM intermediate.allocation_hourly AS a
    JOIN staging.hosts AS h USING (host)
    GROUP BY a.job_id
),
jobs AS (
    SELECT
        j.*,
        coalesce(a.site, j.site) AS site_used,
        coalesce(j.device_count, a.gpus) AS devices,
        coalesce(j.device_model, a.gpu_model) AS device_model_used,
        a.alloc_s,
        t.covered_alloc_s,
        t.observed_alloc_s,
        date_diff('microsecond', j."start", j."end") / 1e6 AS duration_s
    FROM staging.jobs AS j
    LEFT JOIN alloc AS a USING (job_id)
    LEFT JOIN telemetry_jobs AS t USING (job_id)
)
SELECT
    j.job_id,
    j.site_used AS site,
    CASE
        WHEN j.covered_alloc_s IS NOT NULL THEN 'measured_sample'
        WHEN j.energy_kwh IS NOT NULL THEN 'measured_job'
        WHEN j.devices IS NOT NULL
            AND (j.avg_power_w IS NOT NULL OR f.tdp_w IS NOT NULL) THEN 'estimated'
        ELSE 'unknown'
    END AS tier,
    j.devices AS device_count,
    j.device_model_used AS device_model,
    j.duration_s,
    j.alloc_s,
    j.observed_alloc_s / nullif(j.alloc_s, 0) AS telemetry_coverage,
    CASE
        WHEN j.avg_power_w IS NOT NULL THEN j.avg_power_w
        ELSE f.tdp_w * coalesce(CAST($default_utilisation AS DOUBLE), f.default_utilisation)
    END AS estimate_power_w,
    CASE
        WHEN j.avg_power_w IS NOT NULL THEN 'jobs.avg_power_w'
        WHEN f.tdp_w IS NOT NULL THEN 'tdp_w x default_utilisation (' || f.source || ')'
    END AS estimate_power_basis,
    f.tdp_w,
    coalesce(CAST($default_utilisation AS DOUBLE), f.default_utilisation) AS default_utilisation,
    CASE
        WHEN j.site_used IS NULL THEN 'no site: give jobs.site or allocation rows'
        WHEN j.covered_alloc_s IS NULL AND j.energy_kwh IS NULL AND j.devices IS NULL
            THEN 'no telemetry, no energy_kwh and no device_count'
        WHEN j.covered_alloc_s IS NULL AND j.energy_kwh IS NULL AND j.avg_power_w IS NULL AND f.tdp_w IS NULL
            THEN 'no avg_power_w and no TDP for device_model in factors'
    END AS gap
FROM jobs AS j
LEFT JOIN staging.factor_device_power AS f ON lower(f.device_model) = lower(j.device_model_used)
ORDER BY j.job_id
