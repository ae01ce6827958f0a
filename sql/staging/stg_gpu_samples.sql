-- GPU telemetry for one UTC-day window: typed, units normalised (counter mJ to kWh), checked.
-- Rows failing a check carry `qa` (column, reason, raw value) and go to audit.quarantine.
WITH typed AS NOT MATERIALIZED (
    SELECT
        source_file,
        source_row,
        -- A typed TIMESTAMP column is UTC already; folding typeof() skips the per-row time-zone
        -- conversion and lets the window filter reach the Parquet row-group statistics.
        CASE WHEN typeof(ts) = 'TIMESTAMP' THEN CAST(ts AS TIMESTAMP)
             ELSE timezone('UTC', TRY_CAST(ts AS TIMESTAMPTZ)) END AS ts,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        TRY_CAST(gpu AS INTEGER) AS gpu,
        TRY_CAST(power_w AS DOUBLE) AS power_w,
        TRY_CAST(energy_mj AS DOUBLE) / 3.6e9 AS energy_counter_kwh,
        TRY_CAST(util_pct AS DOUBLE) AS util_pct,
        TRY_CAST(mem_used_mib AS DOUBLE) AS mem_used_mib,
        NULLIF(trim(CAST(gpu_uuid AS VARCHAR)), '') AS gpu_uuid,
        NULLIF(trim(CAST(job_id AS VARCHAR)), '') AS job_id,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src_gpu_samples AS src
),
windowed AS NOT MATERIALIZED (
    SELECT *
    FROM typed
    WHERE ts IS NULL
        OR CAST($stage_start AS TIMESTAMP) IS NULL
        OR (ts >= CAST($stage_start AS TIMESTAMP) AND ts < CAST($stage_end AS TIMESTAMP))
        -- Rows outside the data window belong to no partition: every window quarantines them
        -- (partition_day NULL, so a re-staged window replaces them instead of adding them twice).
        OR ts < CAST($data_start AS TIMESTAMP)
        OR ts >= CAST($data_end AS TIMESTAMP)
),
checked AS NOT MATERIALIZED (
    SELECT
        w.*,
        CASE
            WHEN w.import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || w.import_error, 'raw': w.import_error}
            WHEN w.raw.ts IS NULL THEN {'col': 'ts', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.ts IS NULL THEN {'col': 'ts', 'reason': 'unparseable timestamp', 'raw': CAST(w.raw.ts AS VARCHAR)}
            WHEN w.ts < CAST($data_start AS TIMESTAMP) OR w.ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'ts', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(w.raw.ts AS VARCHAR)}
            WHEN w.host IS NULL THEN {'col': 'host', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.raw.gpu IS NULL THEN {'col': 'gpu', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.gpu IS NULL OR w.gpu < 0 OR TRY_CAST(w.raw.gpu AS DOUBLE) IS DISTINCT FROM w.gpu
                THEN {'col': 'gpu', 'reason': 'not a GPU index (integer >= 0)', 'raw': CAST(w.raw.gpu AS VARCHAR)}
            WHEN w.raw.power_w IS NULL THEN {'col': 'power_w', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.power_w IS NULL OR NOT isfinite(w.power_w)
                THEN {'col': 'power_w', 'reason': 'not a number', 'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN w.power_w < 0
                THEN {'col': 'power_w', 'reason': 'negative power', 'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN w.power_w > $max_gpu_power_w
                THEN {'col': 'power_w', 'reason': 'power above physical bound ([telemetry] max_gpu_power_w)',
                      'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN w.raw.energy_mj IS NOT NULL AND (w.energy_counter_kwh IS NULL OR NOT isfinite(w.energy_counter_kwh))
                THEN {'col': 'energy_mj', 'reason': 'not a number', 'raw': CAST(w.raw.energy_mj AS VARCHAR)}
            WHEN w.energy_counter_kwh < 0
                THEN {'col': 'energy_mj', 'reason': 'negative energy counter', 'raw': CAST(w.raw.energy_mj AS VARCHAR)}
            WHEN w.raw.util_pct IS NOT NULL AND (w.util_pct IS NULL OR w.util_pct < 0 OR w.util_pct > 100)
                THEN {'col': 'util_pct', 'reason': 'utilisation outside 0-100 %', 'raw': CAST(w.raw.util_pct AS VARCHAR)}
            WHEN w.raw.mem_used_mib IS NOT NULL AND (w.mem_used_mib IS NULL OR w.mem_used_mib < 0 OR NOT isfinite(w.mem_used_mib))
                THEN {'col': 'mem_used_mib', 'reason': 'not a non-negative number', 'raw': CAST(w.raw.mem_used_mib AS VARCHAR)}
            WHEN h.host IS NULL THEN {'col': 'host', 'reason': 'unknown host (not in hosts)', 'raw': w.host}
        END AS qa
    FROM windowed AS w
    LEFT JOIN staging.hosts AS h ON h.host = w.host
),
dup_keys AS (
    -- Keys seen more than once among rows that passed the checks: a hash aggregate on the key
    -- alone, instead of a window that sorts every full row. Usually empty.
    SELECT host, gpu, ts
    FROM checked
    -- $find_duplicates is false in staging and in the hourly energy step's first pass: that step
    -- finds duplicate keys in its sort of the samples, and only then runs this (ingest.py,
    -- DUPLICATES_IN_ENERGY_STEP), which spares every run this aggregate over every key.
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
    power_w,
    energy_counter_kwh,
    util_pct,
    mem_used_mib,
    gpu_uuid,
    job_id,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    CASE WHEN ts >= CAST($data_start AS TIMESTAMP) AND ts < CAST($data_end AS TIMESTAMP) THEN CAST(ts AS DATE) END
        AS partition_day
FROM deduped
