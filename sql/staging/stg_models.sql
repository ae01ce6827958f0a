-- Models with family, parameter count and expected lifetime requests.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(model AS VARCHAR)), '') AS model,
        NULLIF(trim(CAST(family AS VARCHAR)), '') AS family,
        TRY_CAST(expected_lifetime_requests AS DOUBLE) AS expected_lifetime_requests,
        TRY_CAST(parameters AS DOUBLE) AS parameters,
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
            WHEN model IS NULL THEN {'col': 'model', 'reason': 'missing required value', 'raw': NULL}
            WHEN raw.expected_lifetime_requests IS NOT NULL
                AND (expected_lifetime_requests IS NULL OR expected_lifetime_requests <= 0 OR NOT isfinite(expected_lifetime_requests))
                THEN {'col': 'expected_lifetime_requests', 'reason': 'not a positive number',
                      'raw': CAST(raw.expected_lifetime_requests AS VARCHAR)}
            WHEN raw.parameters IS NOT NULL AND (parameters IS NULL OR parameters <= 0 OR NOT isfinite(parameters))
                THEN {'col': 'parameters', 'reason': 'not a positive number', 'raw': CAST(raw.parameters AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, model ORDER BY source_file, source_row) > 1
                THEN {'col': 'model', 'reason': 'duplicate key (model)', 'raw': model}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    model,
    family,
    expected_lifetime_requests,
    parameters,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
