-- Carbon offsets (credits) retired, per model or for the organisation (model empty). Reported
-- beside Scope 2 in their own columns and never netted from either basis (GHG Protocol Scope 2
-- Guidance: offsets are not contractual instruments for electricity).
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(model AS VARCHAR)), '') AS model,
        TRY_CAST(retired_on AS DATE) AS retired_on,
        TRY_CAST(tco2e AS DOUBLE) AS tco2e,
        lower(NULLIF(trim(CAST(kind AS VARCHAR)), '')) AS kind,
        NULLIF(trim(CAST(registry AS VARCHAR)), '') AS registry,
        NULLIF(trim(CAST(serial AS VARCHAR)), '') AS serial,
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
            WHEN retired_on IS NULL
                THEN {'col': 'retired_on', 'reason': 'missing or unparseable date', 'raw': CAST(raw.retired_on AS VARCHAR)}
            WHEN tco2e IS NULL OR tco2e < 0 OR NOT isfinite(tco2e)
                THEN {'col': 'tco2e', 'reason': 'not a non-negative number', 'raw': CAST(raw.tco2e AS VARCHAR)}
            WHEN kind IS NULL OR kind NOT IN ('avoidance', 'removal')
                THEN {'col': 'kind', 'reason': 'unknown kind (avoidance, removal)', 'raw': CAST(raw.kind AS VARCHAR)}
        END AS qa
    FROM typed
)
SELECT
    model,
    retired_on,
    tco2e,
    kind,
    registry,
    serial,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa,
    raw,
    NULL::DATE AS partition_day
FROM checked
