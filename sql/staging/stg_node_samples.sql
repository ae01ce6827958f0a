-- Non-GPU host power for one UTC-day window: typed, checked, duplicates flagged.
WITH typed AS NOT MATERIALIZED (
    SELECT
        source_file,
        source_row,
        -- A typed TIMESTAMP column is UTC already; folding typeof() skips the per-row time-zone
        -- conversion and lets the window filter reach the Parquet row-group statistics.
        CASE WHEN typeof(ts) = 'TIMESTAMP' THEN CAST(ts AS TIMESTAMP)
             ELSE timezone('UTC', TRY_CAST(ts AS TIMESTAMPTZ)) END AS ts,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        lower(NULLIF(trim(CAST(component AS VARCHAR)), '')) AS component,
        TRY_CAST(power_w AS DOUBLE) AS power_w,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src_node_samples AS src
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
            WHEN w.component IS NULL THEN {'col': 'component', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.component NOT IN ('cpu', 'dram', 'other', 'node')
                THEN {'col': 'component', 'reason': 'unknown component (cpu, dram, other, node)', 'raw': CAST(w.raw.component AS VARCHAR)}
            WHEN w.raw.power_w IS NULL THEN {'col': 'power_w', 'reason': 'missing required value', 'raw': NULL}
            WHEN w.power_w IS NULL OR NOT isfinite(w.power_w)
                THEN {'col': 'power_w', 'reason': 'not a number', 'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN w.power_w < 0
                THEN {'col': 'power_w', 'reason': 'negative power', 'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN w.power_w > $max_node_power_w
                THEN {'col': 'power_w', 'reason': 'power above physical bound ([telemetry] max_node_power_w)',
                      'raw': CAST(w.raw.power_w AS VARCHAR)}
            WHEN h.host IS NULL THEN {'col': 'host', 'reason': 'unknown host (not in hosts)', 'raw': w.host}
        END AS qa
    FROM windowed AS w
    LEFT JOIN staging.hosts AS h ON h.host = w.host
),
dup_keys AS (
    -- Keys seen more than once among rows that passed the checks (a hash aggregate on the key, not a
    -- window sorting every full row); only their rows are ranked, the first by file and row kept.
    SELECT host, component, ts
    FROM checked
    -- $find_duplicates is false in staging and in the hourly energy step's first pass: that step
    -- finds duplicate keys in its sort of the samples, and only then runs this (ingest.py,
    -- DUPLICATES_IN_ENERGY_STEP), which spares every run this aggregate over every key.
    WHERE qa IS NULL AND $find_duplicates
    GROUP BY host, component, ts
    HAVING count(*) > 1
),
dup_rows AS (
    SELECT
        c.source_file,
        c.source_row,
        row_number() OVER (PARTITION BY c.host, c.component, c.ts ORDER BY c.source_file, c.source_row) AS rn
    FROM checked AS c
    JOIN dup_keys AS d ON d.host = c.host AND d.component = c.component AND d.ts = c.ts
    WHERE c.qa IS NULL
),
deduped AS (
    SELECT
        c.*,
        CASE
            WHEN r.rn > 1 THEN {'col': 'ts', 'reason': 'duplicate key (host, component, ts)', 'raw': CAST(c.ts AS VARCHAR)}
            ELSE c.qa
        END AS qa_final
    FROM checked AS c
    LEFT JOIN dup_rows AS r ON r.source_file = c.source_file AND r.source_row = c.source_row
)
SELECT
    ts,
    host,
    component,
    power_w,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    CASE WHEN ts >= CAST($data_start AS TIMESTAMP) AND ts < CAST($data_end AS TIMESTAMP) THEN CAST(ts AS DATE) END
        AS partition_day
FROM deduped
