-- Grid carbon intensity per zone and hour; basis defaults to lifecycle and kind to average.
-- A row with valid_to is a constant factor from ts to valid_to (exclusive), e.g. one published annual value.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(zone AS VARCHAR)), '') AS zone,
        timezone('UTC', TRY_CAST(ts AS TIMESTAMPTZ)) AS ts,
        TRY_CAST(gco2e_per_kwh AS DOUBLE) AS gco2e_per_kwh,
        coalesce(lower(NULLIF(trim(CAST(basis AS VARCHAR)), '')), 'lifecycle') AS basis,
        coalesce(lower(NULLIF(trim(CAST(kind AS VARCHAR)), '')), 'average') AS kind,
        NULLIF(trim(CAST(source AS VARCHAR)), '') AS source,
        TRY_CAST(estimated AS BOOLEAN) AS estimated,
        timezone('UTC', TRY_CAST(valid_to AS TIMESTAMPTZ)) AS valid_to,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
checked AS (
    SELECT
        *,
        CASE
            WHEN import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || import_error, 'raw': import_error}
            WHEN zone IS NULL THEN {'col': 'zone', 'reason': 'missing required value', 'raw': NULL}
            WHEN raw.ts IS NULL THEN {'col': 'ts', 'reason': 'missing required value', 'raw': NULL}
            WHEN ts IS NULL THEN {'col': 'ts', 'reason': 'unparseable timestamp', 'raw': CAST(raw.ts AS VARCHAR)}
            WHEN ts < CAST($data_start AS TIMESTAMP) OR ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'ts', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(raw.ts AS VARCHAR)}
            WHEN raw.gco2e_per_kwh IS NULL THEN {'col': 'gco2e_per_kwh', 'reason': 'missing required value', 'raw': NULL}
            WHEN gco2e_per_kwh IS NULL OR NOT isfinite(gco2e_per_kwh)
                THEN {'col': 'gco2e_per_kwh', 'reason': 'not a number', 'raw': CAST(raw.gco2e_per_kwh AS VARCHAR)}
            WHEN gco2e_per_kwh < 0 OR gco2e_per_kwh > 3000
                THEN {'col': 'gco2e_per_kwh', 'reason': 'intensity outside 0-3000 gCO2e/kWh', 'raw': CAST(raw.gco2e_per_kwh AS VARCHAR)}
            WHEN basis NOT IN ('direct', 'lifecycle')
                THEN {'col': 'basis', 'reason': 'unknown basis (direct, lifecycle)', 'raw': CAST(raw.basis AS VARCHAR)}
            WHEN kind NOT IN ('average', 'marginal')
                THEN {'col': 'kind', 'reason': 'unknown kind (average, marginal)', 'raw': CAST(raw.kind AS VARCHAR)}
            WHEN raw.valid_to IS NOT NULL AND (valid_to IS NULL OR valid_to <= ts)
                THEN {'col': 'valid_to', 'reason': 'unparseable or not after ts', 'raw': CAST(raw.valid_to AS VARCHAR)}
            WHEN raw.estimated IS NOT NULL AND estimated IS NULL
                THEN {'col': 'estimated', 'reason': 'not a boolean', 'raw': CAST(raw.estimated AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, zone, ts, basis, kind ORDER BY source_file, source_row) > 1
                THEN {'col': 'ts', 'reason': 'duplicate key (zone, ts, basis, kind)', 'raw': CAST(ts AS VARCHAR)}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    zone,
    ts,
    gco2e_per_kwh,
    basis,
    kind,
    source,
    coalesce(estimated, false) AS estimated,
    valid_to,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
