-- Energy per (host, component, gpu, hour) from telemetry, for samples ending in one window of days.
-- Rule: each pair of consecutive samples of one device is an interval (t0, t1]. Its energy is the
-- NVML counter difference when both samples carry the counter, it did not go backwards (a reset)
-- and it is physically plausible; otherwise the trapezoid (p0 + p1) / 2 * (t1 - t0). Intervals
-- longer than max_gap_s are not bridged: their time counts as missing coverage. An interval that
-- crosses an hour boundary is split in proportion to time. Rows are keyed by the UTC day of the
-- interval's end (partition_day), so re-running a day replaces exactly its own intervals.
-- Sums are taken in whole microjoules and microseconds (integers) so that the result does not
-- depend on the order in which parallel threads add them up: reruns are byte-identical.
WITH samples AS (
    SELECT host, 'gpu' AS component, gpu, ts, power_w, energy_counter_kwh, util_pct
    FROM staging.gpu_samples
    WHERE ts >= CAST($window_start AS TIMESTAMP) - to_seconds($max_gap_s)
        AND ts < CAST($window_end AS TIMESTAMP)
    UNION ALL
    SELECT host, component, NULL AS gpu, ts, power_w, NULL AS energy_counter_kwh, NULL AS util_pct
    FROM staging.node_samples
    WHERE ts >= CAST($window_start AS TIMESTAMP) - to_seconds($max_gap_s)
        AND ts < CAST($window_end AS TIMESTAMP)
),
pairs AS (
    SELECT
        host,
        component,
        gpu,
        lag(ts) OVER w AS t0,
        ts AS t1,
        lag(power_w) OVER w AS p0,
        power_w AS p1,
        lag(energy_counter_kwh) OVER w AS c0,
        energy_counter_kwh AS c1,
        util_pct
    FROM samples
    WINDOW w AS (PARTITION BY host, component, gpu ORDER BY ts)
),
intervals AS (
    SELECT
        host,
        component,
        gpu,
        t0,
        t1,
        date_diff('microsecond', t0, t1) / 1e6 AS dt_s,
        util_pct,
        CASE
            WHEN c0 IS NOT NULL AND c1 IS NOT NULL AND c1 >= c0
                AND (c1 - c0) * 3.6e6 <= $max_gpu_power_w * date_diff('microsecond', t0, t1) / 1e6
                THEN 'counter'
            WHEN c0 IS NOT NULL AND c1 IS NOT NULL AND c1 < c0 THEN 'power_after_reset'
            ELSE 'power'
        END AS method,
        CASE
            WHEN c0 IS NOT NULL AND c1 IS NOT NULL AND c1 >= c0
                AND (c1 - c0) * 3.6e6 <= $max_gpu_power_w * date_diff('microsecond', t0, t1) / 1e6
                THEN c1 - c0
            ELSE (p0 + p1) / 2 * (date_diff('microsecond', t0, t1) / 1e6) / 3.6e6
        END AS energy_kwh
    FROM pairs
    WHERE t0 IS NOT NULL
        AND t1 >= CAST($window_start AS TIMESTAMP)
        AND date_diff('microsecond', t0, t1) / 1e6 <= $max_gap_s
        AND t1 > t0
),
pieces AS (
    -- One pass over `intervals`: one inside an hour is one piece, one crossing hour boundaries is
    -- split. (A UNION ALL of the two cases reads `intervals` twice, which materialises it.)
    SELECT
        host, component, gpu, h AS hour_start, t1,
        CASE WHEN single THEN dt_s
             ELSE date_diff('microsecond', greatest(t0, h), least(t1, h + INTERVAL 1 HOUR)) / 1e6 END AS overlap_s,
        dt_s, energy_kwh, method, util_pct
    FROM (
        SELECT
            *,
            date_trunc('hour', t0) = date_trunc('hour', t1 - INTERVAL 1 MICROSECOND) AS single,
            unnest(CASE WHEN date_trunc('hour', t0) = date_trunc('hour', t1 - INTERVAL 1 MICROSECOND)
                        THEN [date_trunc('hour', t0)]
                        ELSE generate_series(date_trunc('hour', t0), t1 - INTERVAL 1 MICROSECOND, INTERVAL 1 HOUR)
                   END) AS h
        FROM intervals
    )
)
SELECT
    host,
    component,
    gpu,
    hour_start,
    CAST(t1 AS DATE) AS partition_day,
    CAST(sum(CAST(round(energy_kwh * overlap_s / dt_s * 3.6e12) AS HUGEINT)) AS DOUBLE) / 3.6e12 AS energy_kwh,
    CAST(sum(CAST(round(overlap_s * 1e6) AS BIGINT)) AS DOUBLE) / 1e6 AS covered_s,
    count(*) AS intervals,
    count(*) FILTER (WHERE method = 'counter') AS counter_intervals,
    count(*) FILTER (WHERE method = 'power_after_reset') AS counter_resets,
    CAST(sum(CAST(round(util_pct * overlap_s * 1e3) AS HUGEINT)) AS DOUBLE) / 1e3 AS util_pct_x_s
FROM pieces
GROUP BY host, component, gpu, hour_start, CAST(t1 AS DATE)
ORDER BY host, component, gpu, hour_start, partition_day
