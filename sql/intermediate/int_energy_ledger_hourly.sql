-- The energy ledger: every measured or estimated kWh per (site, hour) lands on exactly one row,
-- either a job or unallocated capacity (or shared infrastructure when shared_infra = 'separate').
-- GPU energy is split by overlap time; compute-host overhead by the job's share of the host's
-- GPU-time capacity; storage/network/infra energy by the job's share of the site's GPU capacity.
-- Sums name their order (sum(x ORDER BY ...)) so that reruns add floats in the same order.
-- Hours in [window_start, window_end): every hourly input is read for those hours only; a host's
-- observed GPU count (when hosts.gpu_count is empty) still counts the GPUs of every day built so far.
WITH hosts AS (
    SELECT
        h.host,
        h.site,
        h.role,
        coalesce(h.gpu_count, obs.gpus, 0) AS gpu_count
    FROM staging.hosts AS h
    LEFT JOIN (SELECT host, count(DISTINCT gpu) AS gpus FROM intermediate.gpu_hourly GROUP BY host) AS obs USING (host)
),
gpu_jobs AS (
    SELECT
        a.job_id,
        g.site,
        g.hour_start,
        sum(g.energy_gpu_kwh * a.alloc_s / g.share_denominator_s ORDER BY a.host, a.gpu) AS energy_gpu_kwh,
        sum(a.alloc_s ORDER BY a.host, a.gpu) AS gpu_s
    FROM intermediate.allocation_hourly AS a
    JOIN intermediate.gpu_hourly AS g USING (host, gpu, hour_start)
    WHERE g.hour_start >= CAST($window_start AS TIMESTAMP) AND g.hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY a.job_id, g.site, g.hour_start
),
gpu_idle AS (
    SELECT site, hour_start, sum(energy_gpu_kwh * (1 - alloc_s / share_denominator_s) ORDER BY host, gpu) AS energy_gpu_kwh
    FROM intermediate.gpu_hourly
    WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY site, hour_start
),
host_jobs_s AS (
    SELECT a.job_id, a.host, a.hour_start, sum(a.alloc_s ORDER BY a.gpu) AS alloc_s
    FROM intermediate.allocation_hourly AS a
    WHERE a.hour_start >= CAST($window_start AS TIMESTAMP) AND a.hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY a.job_id, a.host, a.hour_start
),
host_capacity AS (
    SELECT
        o.host,
        o.site,
        o.hour_start,
        o.energy_kwh,
        greatest(h.gpu_count * 3600.0, coalesce(sum(s.alloc_s ORDER BY s.job_id), 0)) AS capacity_s,
        coalesce(sum(s.alloc_s ORDER BY s.job_id), 0) AS alloc_s
    FROM intermediate.host_other_hourly AS o
    JOIN hosts AS h USING (host)
    LEFT JOIN host_jobs_s AS s ON s.host = o.host AND s.hour_start = o.hour_start
    WHERE o.role = 'compute' AND o.hour_start >= CAST($window_start AS TIMESTAMP) AND o.hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY o.host, o.site, o.hour_start, o.energy_kwh, h.gpu_count
),
host_jobs AS (
    SELECT s.job_id, c.site, c.hour_start, sum(c.energy_kwh * s.alloc_s / c.capacity_s ORDER BY c.host) AS energy_host_other_kwh
    FROM host_capacity AS c
    JOIN host_jobs_s AS s USING (host, hour_start)
    WHERE c.capacity_s > 0
    GROUP BY s.job_id, c.site, c.hour_start
),
host_idle AS (
    SELECT
        site,
        hour_start,
        sum(CASE WHEN capacity_s > 0 THEN energy_kwh * (1 - alloc_s / capacity_s) ELSE energy_kwh END ORDER BY host)
            AS energy_host_other_kwh
    FROM host_capacity
    GROUP BY site, hour_start
),
shared AS (
    SELECT site, hour_start, sum(energy_kwh ORDER BY host) AS energy_kwh
    FROM intermediate.host_other_hourly
    WHERE role <> 'compute' AND hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY site, hour_start
),
site_jobs_s AS (
    SELECT job_id, site, hour_start, sum(alloc_s ORDER BY host, gpu) AS alloc_s
    FROM intermediate.allocation_hourly
    WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY job_id, site, hour_start
),
site_capacity AS (
    SELECT
        sh.site,
        sh.hour_start,
        sh.energy_kwh,
        greatest(
            coalesce((SELECT sum(gpu_count) FROM hosts AS h WHERE h.site = sh.site AND h.role = 'compute'), 0) * 3600.0,
            coalesce((SELECT sum(alloc_s ORDER BY job_id) FROM site_jobs_s AS s
                      WHERE s.site = sh.site AND s.hour_start = sh.hour_start), 0)
        ) AS capacity_s
    FROM shared AS sh
),
shared_jobs AS (
    SELECT s.job_id, c.site, c.hour_start, c.energy_kwh * s.alloc_s / c.capacity_s AS energy_shared_kwh
    FROM site_capacity AS c
    JOIN site_jobs_s AS s USING (site, hour_start)
    WHERE $shared_infra = 'allocate' AND c.capacity_s > 0
),
shared_rest AS (
    SELECT
        c.site,
        c.hour_start,
        c.energy_kwh - coalesce(sum(j.energy_shared_kwh ORDER BY j.job_id), 0) AS energy_shared_kwh
    FROM site_capacity AS c
    LEFT JOIN shared_jobs AS j USING (site, hour_start)
    GROUP BY c.site, c.hour_start, c.energy_kwh
),
job_rows AS (
    SELECT
        job_id, site, hour_start,
        sum(energy_gpu_kwh) AS energy_gpu_kwh,
        sum(energy_host_other_kwh) AS energy_host_other_kwh,
        sum(energy_shared_kwh) AS energy_shared_kwh,
        sum(gpu_s) AS gpu_s
    FROM (
        SELECT job_id, site, hour_start, energy_gpu_kwh, 0.0 AS energy_host_other_kwh, 0.0 AS energy_shared_kwh, gpu_s
        FROM gpu_jobs
        UNION ALL
        SELECT job_id, site, hour_start, 0.0, energy_host_other_kwh, 0.0, 0.0 FROM host_jobs
        UNION ALL
        SELECT job_id, site, hour_start, 0.0, 0.0, energy_shared_kwh, 0.0 FROM shared_jobs
    )
    GROUP BY job_id, site, hour_start
),
capacity_rows AS (
    SELECT site, hour_start, sum(energy_gpu_kwh) AS energy_gpu_kwh, sum(energy_host_other_kwh) AS energy_host_other_kwh,
           sum(energy_shared_kwh) AS energy_shared_kwh
    FROM (
        SELECT site, hour_start, energy_gpu_kwh, 0.0 AS energy_host_other_kwh, 0.0 AS energy_shared_kwh FROM gpu_idle
        UNION ALL
        SELECT site, hour_start, 0.0, energy_host_other_kwh, 0.0 FROM host_idle
        UNION ALL
        SELECT site, hour_start, 0.0, 0.0, energy_shared_kwh FROM shared_rest WHERE $shared_infra = 'allocate'
    )
    GROUP BY site, hour_start
)
SELECT site, hour_start, job_id, 'job' AS row_kind, 'measured_sample' AS tier,
       energy_gpu_kwh, energy_host_other_kwh, energy_shared_kwh, 0.0 AS energy_unsplit_kwh, gpu_s,
       CAST(hour_start AS DATE) AS partition_day
FROM job_rows
UNION ALL
SELECT site, hour_start, job_id, 'job', tier, energy_gpu_kwh, energy_host_other_kwh, 0.0, energy_unsplit_kwh, gpu_s,
       CAST(hour_start AS DATE)
FROM intermediate.job_level_hourly
WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
UNION ALL
SELECT site, hour_start, NULL, 'unallocated', 'measured_sample', energy_gpu_kwh, energy_host_other_kwh, energy_shared_kwh, 0.0, 0.0,
       CAST(hour_start AS DATE)
FROM capacity_rows
UNION ALL
SELECT site, hour_start, NULL, 'shared_infra', 'measured_sample', 0.0, 0.0, energy_shared_kwh, 0.0, 0.0,
       CAST(hour_start AS DATE)
FROM shared_rest
WHERE $shared_infra = 'separate'
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY hour_start, site, row_kind, job_id
