-- Inference requests (and tokens) served per model and UTC day.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(model AS VARCHAR)), '') AS model,
        TRY_CAST(date AS DATE) AS date,
        TRY_CAST(requests AS BIGINT) AS requests,
        TRY_CAST(tokens_in AS BIGINT) AS tokens_in,
        TRY_CAST(tokens_out AS BIGINT) AS tokens_out,
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
            WHEN date IS NULL THEN {'col': 'date', 'reason': 'missing or unparseable date', 'raw': CAST(raw.date AS VARCHAR)}
            WHEN CAST(date AS TIMESTAMP) < CAST($data_start AS TIMESTAMP) OR CAST(date AS TIMESTAMP) >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'date', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(raw.date AS VARCHAR)}
            WHEN requests IS NULL OR requests < 0 OR TRY_CAST(raw.requests AS DOUBLE) IS DISTINCT FROM requests
                THEN {'col': 'requests', 'reason': 'not a non-negative integer', 'raw': CAST(raw.requests AS VARCHAR)}
            WHEN raw.tokens_in IS NOT NULL AND (tokens_in IS NULL OR tokens_in < 0 OR TRY_CAST(raw.tokens_in AS DOUBLE) IS DISTINCT FROM tokens_in)
                THEN {'col': 'tokens_in', 'reason': 'not a non-negative integer', 'raw': CAST(raw.tokens_in AS VARCHAR)}
            WHEN raw.tokens_out IS NOT NULL AND (tokens_out IS NULL OR tokens_out < 0 OR TRY_CAST(raw.tokens_out AS DOUBLE) IS DISTINCT FROM tokens_out)
                THEN {'col': 'tokens_out', 'reason': 'not a non-negative integer', 'raw': CAST(raw.tokens_out AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, model, date ORDER BY source_file, source_row) > 1
                THEN {'col': 'date', 'reason': 'duplicate key (model, date)', 'raw': CAST(date AS VARCHAR)}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    model,
    date,
    requests,
    tokens_in,
    tokens_out,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
