-- Allocation time per (job, host, gpu, hour) in seconds, at microsecond precision, for the hours
-- in [window_start, window_end): allocations overlapping the window, cut to its hours.
WITH allocs AS (
    SELECT a.job_id, a.host, a.gpu, a."start" AS t0, a."end" AS t1, h.site
    FROM staging.allocations AS a
    JOIN staging.hosts AS h USING (host)
    WHERE a."end" > a."start"
        AND a."end" > CAST($window_start AS TIMESTAMP)
        AND a."start" < CAST($window_end AS TIMESTAMP)
),
pieces AS (
    SELECT
        job_id, host, gpu, site, hour_start,
        date_diff('microsecond', greatest(t0, hour_start), least(t1, hour_start + INTERVAL 1 HOUR)) / 1e6 AS alloc_s
    FROM (
        SELECT *, unnest(generate_series(
            greatest(date_trunc('hour', t0), CAST($window_start AS TIMESTAMP)),
            least(t1, CAST($window_end AS TIMESTAMP)) - INTERVAL 1 MICROSECOND,
            INTERVAL 1 HOUR
        )) AS hour_start
        FROM allocs
    )
)
SELECT job_id, host, gpu, site, hour_start, sum(alloc_s) AS alloc_s, CAST(hour_start AS DATE) AS partition_day
FROM pieces
GROUP BY job_id, host, gpu, site, hour_start
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY hour_start, job_id, host, gpu
