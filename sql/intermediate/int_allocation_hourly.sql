-- Allocation time per (job, host, gpu, hour) in seconds, at microsecond precision.
WITH allocs AS (
    SELECT a.job_id, a.host, a.gpu, a."start" AS t0, a."end" AS t1, h.site
    FROM staging.allocations AS a
    JOIN staging.hosts AS h USING (host)
    WHERE a."end" > a."start"
),
pieces AS (
    SELECT
        job_id, host, gpu, site, hour_start,
        date_diff('microsecond', greatest(t0, hour_start), least(t1, hour_start + INTERVAL 1 HOUR)) / 1e6 AS alloc_s
    FROM (
        SELECT *, unnest(generate_series(date_trunc('hour', t0), t1 - INTERVAL 1 MICROSECOND, INTERVAL 1 HOUR)) AS hour_start
        FROM allocs
    )
)
SELECT job_id, host, gpu, site, hour_start, sum(alloc_s) AS alloc_s
FROM pieces
GROUP BY job_id, host, gpu, site, hour_start
ORDER BY job_id, host, gpu, hour_start
