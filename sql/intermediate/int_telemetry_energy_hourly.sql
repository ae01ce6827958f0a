-- Energy per (host, component, gpu, hour) from telemetry, for samples ending in one window of days.
-- Rule: each pair of consecutive samples of one device is an interval (t0, t1]. Its energy is the
-- NVML counter difference when both samples carry the counter, it did not go backwards (a reset)
-- and it is physically plausible; otherwise the trapezoid (p0 + p1) / 2 * (t1 - t0). Intervals
-- longer than max_gap_s are not bridged: their time counts as missing coverage. An interval that
-- crosses an hour boundary is split in proportion to time. Rows are keyed by the UTC day of the
-- interval's end (partition_day), so re-running a day replaces exactly its own intervals.
-- The samples are not copied into the warehouse: `valid_<input>` are the rows that pass the input's
-- staging statement, read from the files again (the runner puts them in front of this statement,
-- see ingest.validated_ctes), restricted to the days and files staging accounted for.
-- Sums are taken in whole microjoules and microseconds (integers) so that the result does not
-- depend on the order in which parallel threads add them up: reruns are byte-identical.
-- GPU-days without samples take their energy from the per-minute roll-up (gpu_energy_minutes): each
-- row's last minus first counter reading, plus the interval from the previous row's last sample to
-- its first, under the same rules as a pair of samples. Samples win: a GPU-day with any sample
-- interval ignores its roll-up rows.
WITH host_keys AS (
    -- Integer partition keys: the window sorts every sample, and sorting on integers instead of the
    -- host and component names is about 40 % faster (44M samples: 5.5 s -> 3.3 s on 2 cores).
    SELECT host, CAST(row_number() OVER (ORDER BY host) AS INTEGER) AS host_key FROM staging.hosts
),
samples AS (
    SELECT k.host_key, 0 AS component_key, s.gpu, s.ts, s.power_w,
        s.energy_counter_kwh, s.util_pct
    FROM valid_gpu_samples AS s
    JOIN host_keys AS k ON k.host = s.host
    WHERE s.ts >= CAST($window_start AS TIMESTAMP) - to_seconds($max_gap_s)
        AND s.ts < CAST($window_end AS TIMESTAMP)
        AND (s.source_file, s.partition_day) IN (SELECT (source_file, partition_day) FROM staging.gpu_samples)
    UNION ALL
    SELECT k.host_key, list_position(['cpu', 'dram', 'other', 'node'], n.component) AS component_key,
        NULL AS gpu, n.ts, n.power_w, NULL AS energy_counter_kwh, NULL AS util_pct
    FROM valid_node_samples AS n
    JOIN host_keys AS k ON k.host = n.host
    WHERE n.ts >= CAST($window_start AS TIMESTAMP) - to_seconds($max_gap_s)
        AND n.ts < CAST($window_end AS TIMESTAMP)
        AND (n.source_file, n.partition_day) IN (SELECT (source_file, partition_day) FROM staging.node_samples)
),
pairs AS (
    -- The sort carries integer keys only; names come back once per hour (sample_hours).
    SELECT
        host_key,
        component_key,
        gpu,
        lag(ts) OVER w AS t0,
        ts AS t1,
        lag(power_w) OVER w AS p0,
        power_w AS p1,
        lag(energy_counter_kwh) OVER w AS c0,
        energy_counter_kwh AS c1,
        util_pct
    FROM samples
    WINDOW w AS (PARTITION BY host_key, component_key, gpu ORDER BY ts)
),
intervals AS (
    SELECT
        host_key,
        component_key,
        gpu,
        t0,
        t1,
        date_diff('microsecond', t0, t1) / 1e6 AS dt_s,
        util_pct,
        -- The counter rule is in sql/macros (counter_plausible, interval_method, interval_kwh), shared
        -- with the roll-up's bridges below.
        CASE WHEN t1 = t0 THEN 'duplicate' ELSE interval_method(c0, c1, t0, t1, $max_gpu_power_w) END AS method,
        CASE WHEN t1 = t0 THEN 0 ELSE interval_kwh(c0, c1, p0, p1, t0, t1, $max_gpu_power_w) END AS energy_kwh
    FROM pairs
    WHERE t0 IS NOT NULL
        AND date_diff('microsecond', t0, t1) / 1e6 <= $max_gap_s
        AND ((t1 > t0 AND t1 >= CAST($window_start AS TIMESTAMP))
            -- Two samples of one device at one time: a duplicate key, counted (also in the look-back,
            -- whose last sample starts the day's first interval) in `duplicate_samples`. The samples
            -- are sorted here anyway, so this costs nothing, while a hash aggregate over every key
            -- cost 11 s of 15 in staging at 88M samples. A slice that finds any re-runs the statement
            -- with $find_duplicates, which keeps the first by file and row (assets/slices.py).
            OR t1 = t0)
),
hour_sums AS MATERIALIZED (
    -- An interval inside one hour (nearly all of them) is summed into its hour here, in the same pass;
    -- the few that cross an hour boundary are kept per group as a list and split below. (Exploding
    -- every interval into a list of hours and unnesting it cost about 2 s of CPU per 44M samples.)
    SELECT
        host_key, component_key, gpu, date_trunc('hour', t0) AS hour_start, CAST(t1 AS DATE) AS partition_day,
        sum(CASE WHEN single AND dt_s > 0 THEN CAST(round(energy_kwh * 3.6e12) AS HUGEINT) END) AS energy_uj,
        sum(CASE WHEN single THEN CAST(round(dt_s * 1e6) AS BIGINT) END) AS covered_us,
        count(*) FILTER (WHERE single AND method <> 'duplicate') AS intervals,
        count(*) FILTER (WHERE single AND method = 'counter') AS counter_intervals,
        count(*) FILTER (WHERE single AND method = 'power_after_reset') AS counter_resets,
        sum(CASE WHEN single THEN CAST(round(util_pct * dt_s * 1e3) AS HUGEINT) END) AS util_mpct_s,
        count(*) FILTER (WHERE method = 'duplicate') AS duplicate_samples,
        list({'t0': t0, 't1': t1, 'dt_s': dt_s, 'energy_kwh': energy_kwh, 'method': method, 'util_pct': util_pct})
            FILTER (WHERE NOT single) AS crossing
    FROM (
        SELECT *, t1 = t0 OR date_trunc('hour', t0) = date_trunc('hour', t1 - INTERVAL 1 MICROSECOND) AS single
        FROM intervals
    )
    GROUP BY ALL
),
crossing_pieces AS (
    -- Each crossing interval split at the hour boundaries, in proportion to time.
    SELECT
        *,
        date_diff('microsecond', greatest(c.t0, h), least(c.t1, h + INTERVAL 1 HOUR)) / 1e6 AS overlap_s
    FROM (
        SELECT *, unnest(generate_series(date_trunc('hour', c.t0), c.t1 - INTERVAL 1 MICROSECOND, INTERVAL 1 HOUR)) AS h
        FROM (SELECT host_key, component_key, gpu, partition_day, unnest(crossing) AS c FROM hour_sums)
    )
),
sample_pieces AS (
    SELECT host_key, component_key, gpu, hour_start, partition_day, energy_uj, covered_us, intervals,
        counter_intervals, counter_resets, util_mpct_s, duplicate_samples
    FROM hour_sums
    UNION ALL
    SELECT
        host_key, component_key, gpu, h, partition_day,
        CAST(round(c.energy_kwh * overlap_s / c.dt_s * 3.6e12) AS HUGEINT),
        CAST(round(overlap_s * 1e6) AS BIGINT),
        1,
        CAST(c.method = 'counter' AS INTEGER),
        CAST(c.method = 'power_after_reset' AS INTEGER),
        CAST(round(c.util_pct * overlap_s * 1e3) AS HUGEINT),
        0
    FROM crossing_pieces
),
sample_hours AS MATERIALIZED (
SELECT
    k.host,
    CASE WHEN p.component_key = 0 THEN 'gpu' ELSE ['cpu', 'dram', 'other', 'node'][p.component_key] END AS component,
    p.gpu,
    p.hour_start,
    p.partition_day,
    CAST(sum(p.energy_uj) AS DOUBLE) / 3.6e12 AS energy_kwh,
    CAST(sum(p.covered_us) AS DOUBLE) / 1e6 AS covered_s,
    CAST(sum(p.intervals) AS BIGINT) AS intervals,
    CAST(sum(p.counter_intervals) AS BIGINT) AS counter_intervals,
    CAST(sum(p.counter_resets) AS BIGINT) AS counter_resets,
    CAST(sum(p.util_mpct_s) AS DOUBLE) / 1e3 AS util_pct_x_s,
    CAST(sum(p.duplicate_samples) AS BIGINT) AS duplicate_samples
FROM sample_pieces AS p
JOIN host_keys AS k ON k.host_key = p.host_key
GROUP BY ALL
),
minute_rows AS (
    SELECT
        host, gpu, ts, first_ts, last_ts, samples, covered_s, mean_power_w, mean_util_pct, counter_resets,
        first_counter_kwh AS c_first,
        last_counter_kwh AS c_last,
        coalesce(first_power_w, mean_power_w) AS p_first,
        lag(last_ts) OVER w AS prev_ts,
        lag(last_counter_kwh) OVER w AS prev_c,
        lag(coalesce(last_power_w, mean_power_w)) OVER w AS prev_p
    FROM valid_gpu_energy_minutes
    WHERE ts >= CAST($window_start AS TIMESTAMP) - to_seconds($max_gap_s) - INTERVAL 1 MINUTE
        AND ts < CAST($window_end AS TIMESTAMP)
        AND (source_file, partition_day) IN (SELECT (source_file, partition_day) FROM staging.gpu_energy_minutes)
    WINDOW w AS (PARTITION BY host, gpu ORDER BY ts)
),
minute_used AS (
    SELECT
        m.*,
        m.counter_resets = 0 AND counter_plausible(m.c_first, m.c_last, m.first_ts, m.last_ts, $max_gpu_power_w)
            AS counter_ok
    FROM minute_rows AS m
    WHERE m.ts >= CAST($window_start AS TIMESTAMP)
        AND NOT EXISTS (
            SELECT 1 FROM sample_hours AS s
            WHERE s.component = 'gpu' AND s.host = m.host AND s.gpu = m.gpu AND s.partition_day = CAST(m.ts AS DATE)
        )
),
bridges AS (
    -- From the previous row's last sample to this row's first: one interval, like a pair of samples.
    SELECT
        host, gpu, ts, prev_ts AS t0, first_ts AS t1, mean_util_pct,
        date_diff('microsecond', prev_ts, first_ts) / 1e6 AS dt_s,
        interval_method(prev_c, c_first, prev_ts, first_ts, $max_gpu_power_w) AS method,
        interval_kwh(prev_c, c_first, prev_p, p_first, prev_ts, first_ts, $max_gpu_power_w) AS energy_kwh
    FROM minute_used
    WHERE prev_ts IS NOT NULL
        AND first_ts > prev_ts
        AND date_diff('microsecond', prev_ts, first_ts) / 1e6 <= $max_gap_s
),
minute_pieces AS (
    -- Inside the minute, first to last sample: exact from the counter when it ran without reset,
    -- otherwise mean power x covered seconds. It lies inside one hour.
    SELECT
        host, gpu, date_trunc('hour', ts) AS hour_start, CAST(ts AS DATE) AS partition_day,
        CASE WHEN counter_ok THEN c_last - c_first ELSE mean_power_w * covered_s / 3.6e6 END AS energy_kwh,
        covered_s,
        samples - 1 AS intervals,
        CASE WHEN counter_ok THEN samples - 1 ELSE 0 END AS counter_intervals,
        CASE WHEN counter_ok THEN 0 WHEN c_last < c_first THEN greatest(counter_resets, 1) ELSE counter_resets END
            AS counter_resets,
        mean_util_pct * covered_s AS util_pct_x_s
    FROM minute_used
    WHERE samples > 1
    UNION ALL
    SELECT
        host, gpu, h AS hour_start, CAST(ts AS DATE) AS partition_day,
        energy_kwh * overlap_s / dt_s AS energy_kwh,
        overlap_s AS covered_s,
        1 AS intervals,
        CASE WHEN method = 'counter' THEN 1 ELSE 0 END AS counter_intervals,
        CASE WHEN method = 'power_after_reset' THEN 1 ELSE 0 END AS counter_resets,
        mean_util_pct * overlap_s AS util_pct_x_s
    FROM (
        SELECT
            *,
            date_diff('microsecond', greatest(t0, h), least(t1, h + INTERVAL 1 HOUR)) / 1e6 AS overlap_s
        FROM (
            SELECT *, unnest(generate_series(date_trunc('hour', t0), t1 - INTERVAL 1 MICROSECOND, INTERVAL 1 HOUR)) AS h
            FROM bridges
        )
    )
),
minute_hours AS (
    SELECT
        host,
        'gpu' AS component,
        gpu,
        hour_start,
        partition_day,
        CAST(sum(CAST(round(energy_kwh * 3.6e12) AS HUGEINT)) AS DOUBLE) / 3.6e12 AS energy_kwh,
        CAST(sum(CAST(round(covered_s * 1e6) AS BIGINT)) AS DOUBLE) / 1e6 AS covered_s,
        CAST(sum(intervals) AS BIGINT) AS intervals,
        CAST(sum(counter_intervals) AS BIGINT) AS counter_intervals,
        CAST(sum(counter_resets) AS BIGINT) AS counter_resets,
        CAST(sum(CAST(round(util_pct_x_s * 1e3) AS HUGEINT)) AS DOUBLE) / 1e3 AS util_pct_x_s,
        0 AS duplicate_samples
    FROM minute_pieces
    GROUP BY host, gpu, hour_start, partition_day
)
SELECT * FROM sample_hours
UNION ALL
SELECT * FROM minute_hours
ORDER BY host, component, gpu, hour_start, partition_day
