-- GPU telemetry rolled up per GPU and UTC minute (`lca collect --write minutes`), for one UTC-day
-- window: typed, units normalised (counter mJ to kWh), checked. `ts` is the minute's start; the
-- row's energy is read from its first and last counter reading downstream.
-- Rows failing a check carry `qa` (column, reason, raw value) and go to audit.quarantine.
WITH typed AS NOT MATERIALIZED (
    SELECT
        source_file,
        source_row,
        -- A typed TIMESTAMP column is UTC already (see stg_gpu_samples).
        CASE WHEN typeof(ts) = 'TIMESTAMP' THEN CAST(ts AS TIMESTAMP)
             ELSE timezone('UTC', TRY_CAST(ts AS TIMESTAMPTZ)) END AS ts,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        TRY_CAST(gpu AS INTEGER) AS gpu,
        CASE WHEN typeof(first_ts) = 'TIMESTAMP' THEN CAST(first_ts AS TIMESTAMP)
             ELSE timezone('UTC', TRY_CAST(first_ts AS TIMESTAMPTZ)) END AS first_ts,
        CASE WHEN typeof(last_ts) = 'TIMESTAMP' THEN CAST(last_ts AS TIMESTAMP)
             ELSE timezone('UTC', TRY_CAST(last_ts AS TIMESTAMPTZ)) END AS last_ts,
        TRY_CAST(first_energy_mj AS DOUBLE) / 3.6e9 AS first_counter_kwh,
        TRY_CAST(last_energy_mj AS DOUBLE) / 3.6e9 AS last_counter_kwh,
        TRY_CAST(first_power_w AS DOUBLE) AS first_power_w,
        TRY_CAST(last_power_w AS DOUBLE) AS last_power_w,
        TRY_CAST(covered_s AS DOUBLE) AS covered_s_given,
        TRY_CAST(samples AS BIGINT) AS samples,
        TRY_CAST(min_power_w AS DOUBLE) AS min_power_w,
        TRY_CAST(max_power_w AS DOUBLE) AS max_power_w,
        TRY_CAST(mean_power_w AS DOUBLE) AS mean_power_w,
        TRY_CAST(mean_util_pct AS DOUBLE) AS mean_util_pct,
        TRY_CAST(counter_resets AS BIGINT) AS counter_resets_given,
        NULLIF(trim(CAST(gpu_uuid AS VARCHAR)), '') AS gpu_uuid,
        NULLIF(trim(CAST(job_id AS VARCHAR)), '') AS job_id,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src_gpu_energy_minutes AS src
),
windowed AS NOT MATERIALIZED (
    SELECT
        *,
        date_diff('microsecond', first_ts, last_ts) / 1e6 AS span_s
    FROM typed
    WHERE ts IS NULL
        OR CAST($stage_start AS TIMESTAMP) IS NULL
        OR (ts >= CAST($stage_start AS TIMESTAMP) AND ts < CAST($stage_end AS TIMESTAMP))
),
checked AS NOT MATERIALIZED (
    SELECT
        w.*,
        CASE
            WHEN w.import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || w.import_error, 'raw': w.import_error}
            WHEN w.raw.ts IS NULL THEN {'col': 'ts', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.ts IS NULL THEN {'col': 'ts', 'reason': 'unparseable timestamp', 'raw': CAST(w.raw.ts AS VARCHAR)}
            WHEN w.ts <> date_trunc('minute', w.ts)
                THEN {'col': 'ts', 'reason': 'not the start of a UTC minute', 'raw': CAST(w.raw.ts AS VARCHAR)}
            WHEN w.host IS NULL THEN {'col': 'host', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.raw.gpu IS NULL THEN {'col': 'gpu', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.gpu IS NULL OR w.gpu < 0
                THEN {'col': 'gpu', 'reason': 'not a GPU index (integer >= 0)', 'raw': CAST(w.raw.gpu AS VARCHAR)}
            WHEN w.raw.first_ts IS NULL THEN {'col': 'first_ts', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.first_ts IS NULL
                THEN {'col': 'first_ts', 'reason': 'unparseable timestamp', 'raw': CAST(w.raw.first_ts AS VARCHAR)}
            WHEN w.raw.last_ts IS NULL THEN {'col': 'last_ts', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.last_ts IS NULL
                THEN {'col': 'last_ts', 'reason': 'unparseable timestamp', 'raw': CAST(w.raw.last_ts AS VARCHAR)}
            WHEN w.first_ts < w.ts OR w.first_ts >= w.ts + INTERVAL 1 MINUTE
                THEN {'col': 'first_ts', 'reason': 'outside the minute starting at ts', 'raw': CAST(w.raw.first_ts AS VARCHAR)}
            WHEN w.last_ts < w.ts OR w.last_ts >= w.ts + INTERVAL 1 MINUTE
                THEN {'col': 'last_ts', 'reason': 'outside the minute starting at ts', 'raw': CAST(w.raw.last_ts AS VARCHAR)}
            WHEN w.last_ts < w.first_ts
                THEN {'col': 'last_ts', 'reason': 'before first_ts', 'raw': CAST(w.raw.last_ts AS VARCHAR)}
            WHEN w.raw.samples IS NULL THEN {'col': 'samples', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.samples IS NULL OR w.samples < 1
                THEN {'col': 'samples', 'reason': 'not a sample count (integer >= 1)', 'raw': CAST(w.raw.samples AS VARCHAR)}
            WHEN w.samples = 1 AND w.last_ts <> w.first_ts
                THEN {'col': 'samples', 'reason': 'one sample but first_ts and last_ts differ', 'raw': CAST(w.raw.samples AS VARCHAR)}
            WHEN w.raw.covered_s IS NOT NULL AND (w.covered_s_given IS NULL OR NOT isfinite(w.covered_s_given))
                THEN {'col': 'covered_s', 'reason': 'not a number', 'raw': CAST(w.raw.covered_s AS VARCHAR)}
            WHEN w.covered_s_given < 0 OR w.covered_s_given > w.span_s + 0.001
                THEN {'col': 'covered_s', 'reason': 'outside 0 .. last_ts - first_ts', 'raw': CAST(w.raw.covered_s AS VARCHAR)}
            WHEN w.raw.mean_power_w IS NULL THEN {'col': 'mean_power_w', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.mean_power_w IS NULL OR NOT isfinite(w.mean_power_w)
                THEN {'col': 'mean_power_w', 'reason': 'not a number', 'raw': CAST(w.raw.mean_power_w AS VARCHAR)}
            WHEN w.mean_power_w < 0
                THEN {'col': 'mean_power_w', 'reason': 'negative power', 'raw': CAST(w.raw.mean_power_w AS VARCHAR)}
            WHEN w.mean_power_w > $max_gpu_power_w
                THEN {'col': 'mean_power_w', 'reason': 'power above physical bound ([telemetry] max_gpu_power_w)',
                      'raw': CAST(w.raw.mean_power_w AS VARCHAR)}
            WHEN w.raw.first_power_w IS NOT NULL AND (w.first_power_w IS NULL OR NOT isfinite(w.first_power_w)
                                                      OR w.first_power_w < 0 OR w.first_power_w > $max_gpu_power_w)
                THEN {'col': 'first_power_w', 'reason': 'not a power within 0 .. [telemetry] max_gpu_power_w',
                      'raw': CAST(w.raw.first_power_w AS VARCHAR)}
            WHEN w.raw.last_power_w IS NOT NULL AND (w.last_power_w IS NULL OR NOT isfinite(w.last_power_w)
                                                     OR w.last_power_w < 0 OR w.last_power_w > $max_gpu_power_w)
                THEN {'col': 'last_power_w', 'reason': 'not a power within 0 .. [telemetry] max_gpu_power_w',
                      'raw': CAST(w.raw.last_power_w AS VARCHAR)}
            WHEN w.raw.min_power_w IS NOT NULL AND (w.min_power_w IS NULL OR NOT isfinite(w.min_power_w)
                                                    OR w.min_power_w < 0 OR w.min_power_w > w.mean_power_w * (1 + 1e-9))
                THEN {'col': 'min_power_w', 'reason': 'not a power within 0 .. mean_power_w', 'raw': CAST(w.raw.min_power_w AS VARCHAR)}
            WHEN w.raw.max_power_w IS NOT NULL AND (w.max_power_w IS NULL OR NOT isfinite(w.max_power_w)
                                                    OR w.max_power_w < w.mean_power_w * (1 - 1e-9)
                                                    OR w.max_power_w > $max_gpu_power_w)
                THEN {'col': 'max_power_w', 'reason': 'not a power within mean_power_w .. [telemetry] max_gpu_power_w',
                      'raw': CAST(w.raw.max_power_w AS VARCHAR)}
            WHEN w.raw.first_energy_mj IS NOT NULL AND (w.first_counter_kwh IS NULL OR NOT isfinite(w.first_counter_kwh))
                THEN {'col': 'first_energy_mj', 'reason': 'not a number', 'raw': CAST(w.raw.first_energy_mj AS VARCHAR)}
            WHEN w.raw.last_energy_mj IS NOT NULL AND (w.last_counter_kwh IS NULL OR NOT isfinite(w.last_counter_kwh))
                THEN {'col': 'last_energy_mj', 'reason': 'not a number', 'raw': CAST(w.raw.last_energy_mj AS VARCHAR)}
            WHEN w.first_counter_kwh < 0
                THEN {'col': 'first_energy_mj', 'reason': 'negative energy counter', 'raw': CAST(w.raw.first_energy_mj AS VARCHAR)}
            WHEN w.last_counter_kwh < 0
                THEN {'col': 'last_energy_mj', 'reason': 'negative energy counter', 'raw': CAST(w.raw.last_energy_mj AS VARCHAR)}
            WHEN (w.first_counter_kwh IS NULL) <> (w.last_counter_kwh IS NULL)
                THEN {'col': 'last_energy_mj', 'reason': 'first_energy_mj and last_energy_mj must both be given or both empty',
                      'raw': CAST(w.raw.last_energy_mj AS VARCHAR)}
            WHEN w.raw.mean_util_pct IS NOT NULL AND (w.mean_util_pct IS NULL OR w.mean_util_pct < 0 OR w.mean_util_pct > 100)
                THEN {'col': 'mean_util_pct', 'reason': 'utilisation outside 0-100 %', 'raw': CAST(w.raw.mean_util_pct AS VARCHAR)}
            WHEN w.raw.counter_resets IS NOT NULL AND (w.counter_resets_given IS NULL OR w.counter_resets_given < 0)
                THEN {'col': 'counter_resets', 'reason': 'not a count (integer >= 0)', 'raw': CAST(w.raw.counter_resets AS VARCHAR)}
            WHEN h.host IS NULL THEN {'col': 'host', 'reason': 'unknown host (not in hosts)', 'raw': w.host}
        END AS qa
    FROM windowed AS w
    LEFT JOIN staging.hosts AS h ON h.host = w.host
),
dup_keys AS (
    SELECT host, gpu, ts
    FROM checked
    -- $find_duplicates is false only when the rows were staged before with no duplicate found
    -- (the hourly energy step reading them again), which spares it this aggregate over every key.
    WHERE qa IS NULL AND $find_duplicates
    GROUP BY host, gpu, ts
    HAVING count(*) > 1
),
dup_rows AS (
    -- Only the rows of duplicated keys are ranked; the first by file and row is kept.
    SELECT
        c.source_file,
        c.source_row,
        row_number() OVER (PARTITION BY c.host, c.gpu, c.ts ORDER BY c.source_file, c.source_row) AS rn
    FROM checked AS c
    JOIN dup_keys AS d ON d.host = c.host AND d.gpu = c.gpu AND d.ts = c.ts
    WHERE c.qa IS NULL
),
deduped AS (
    SELECT
        c.*,
        CASE
            WHEN r.rn > 1 THEN {'col': 'ts', 'reason': 'duplicate key (host, gpu, ts)', 'raw': CAST(c.ts AS VARCHAR)}
            ELSE c.qa
        END AS qa_final
    FROM checked AS c
    LEFT JOIN dup_rows AS r ON r.source_file = c.source_file AND r.source_row = c.source_row
)
SELECT
    ts,
    host,
    gpu,
    first_ts,
    last_ts,
    first_counter_kwh,
    last_counter_kwh,
    first_power_w,
    last_power_w,
    -- Without covered_s, the minute counts as covered from its first to its last sample.
    coalesce(covered_s_given, span_s) AS covered_s,
    CAST(samples AS INTEGER) AS samples,
    min_power_w,
    max_power_w,
    mean_power_w,
    mean_util_pct,
    CAST(coalesce(counter_resets_given, 0) AS INTEGER) AS counter_resets,
    gpu_uuid,
    job_id,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    CAST(ts AS DATE) AS partition_day
FROM deduped
