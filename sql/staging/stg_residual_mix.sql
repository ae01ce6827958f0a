-- Residual-mix emission factors per zone and year (market-based remainder).
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(zone AS VARCHAR)), '') AS zone,
        TRY_CAST(year AS INTEGER) AS year,
        TRY_CAST(gco2e_per_kwh AS DOUBLE) AS gco2e_per_kwh,
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
            WHEN year IS NULL OR TRY_CAST(raw.year AS DOUBLE) IS DISTINCT FROM year
                THEN {'col': 'year', 'reason': 'not a year', 'raw': CAST(raw.year AS VARCHAR)}
            WHEN year < year(CAST($data_start AS TIMESTAMP)) OR make_date(year, 1, 1) >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'year', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(raw.year AS VARCHAR)}
            WHEN gco2e_per_kwh IS NULL OR NOT isfinite(gco2e_per_kwh) OR gco2e_per_kwh < 0 OR gco2e_per_kwh > 3000
                THEN {'col': 'gco2e_per_kwh', 'reason': 'intensity outside 0-3000 gCO2e/kWh', 'raw': CAST(raw.gco2e_per_kwh AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, zone, year ORDER BY source_file, source_row) > 1
                THEN {'col': 'year', 'reason': 'duplicate key (zone, year)', 'raw': CAST(year AS VARCHAR)}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    zone,
    year,
    gco2e_per_kwh,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
