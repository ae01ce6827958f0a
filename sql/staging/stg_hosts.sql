-- Hosts with site, role and GPU inventory; the site must exist in staging.sites.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        NULLIF(trim(CAST(site AS VARCHAR)), '') AS site,
        lower(NULLIF(trim(CAST(role AS VARCHAR)), '')) AS role,
        TRY_CAST(gpu_count AS INTEGER) AS gpu_count,
        NULLIF(trim(CAST(gpu_model AS VARCHAR)), '') AS gpu_model,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
checked AS (
    SELECT
        t.*,
        CASE
            WHEN t.import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || t.import_error, 'raw': t.import_error}
            WHEN t.host IS NULL THEN {'col': 'host', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.site IS NULL THEN {'col': 'site', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.role IS NULL THEN {'col': 'role', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.role NOT IN ('compute', 'storage', 'network', 'infra')
                THEN {'col': 'role', 'reason': 'unknown role (compute, storage, network, infra)', 'raw': CAST(t.raw.role AS VARCHAR)}
            WHEN t.raw.gpu_count IS NOT NULL AND (t.gpu_count IS NULL OR t.gpu_count < 0 OR t.gpu_count > 1024
                    OR TRY_CAST(t.raw.gpu_count AS DOUBLE) IS DISTINCT FROM t.gpu_count)
                THEN {'col': 'gpu_count', 'reason': 'not a whole number in [0, 1024]', 'raw': CAST(t.raw.gpu_count AS VARCHAR)}
            WHEN NOT EXISTS (SELECT 1 FROM staging.sites AS s WHERE s.site = t.site)
                THEN {'col': 'site', 'reason': 'unknown site (not in sites)', 'raw': t.site}
        END AS qa
    FROM typed AS t
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, host ORDER BY source_file, source_row) > 1
                THEN {'col': 'host', 'reason': 'duplicate key (host)', 'raw': host}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    host,
    site,
    role,
    gpu_count,
    gpu_model,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
