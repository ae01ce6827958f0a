-- What the Parquet files' footers say about their `ts` column, without reading a data page, all files
-- in one scan of their metadata: per file, the range of its values in UTC when the column is a
-- timestamp, every row group has statistics and no value is NULL; otherwise NULLs, and the file must
-- be read. A file without a `ts` column has no row here (it must be read too).
WITH col AS (
    SELECT file_name, name, logical_type
    FROM parquet_schema($paths)
    WHERE lower(name) = 'ts'
    QUALIFY row_number() OVER (PARTITION BY file_name ORDER BY name) = 1
),
stats AS (
    -- A tz-aware column (isAdjustedToUTC=1) is written with its offset, a plain one is UTC already
    -- (as stg_*.sql reads it).
    SELECT
        m.file_name,
        CASE WHEN starts_with(col.logical_type, 'TimestampType(isAdjustedToUTC=1')
                 THEN timezone('UTC', TRY_CAST(m.stats_min_value AS TIMESTAMPTZ))
             WHEN starts_with(col.logical_type, 'TimestampType(isAdjustedToUTC=0')
                 THEN TRY_CAST(m.stats_min_value AS TIMESTAMP)
        END AS lo,
        CASE WHEN starts_with(col.logical_type, 'TimestampType(isAdjustedToUTC=1')
                 THEN timezone('UTC', TRY_CAST(m.stats_max_value AS TIMESTAMPTZ))
             WHEN starts_with(col.logical_type, 'TimestampType(isAdjustedToUTC=0')
                 THEN TRY_CAST(m.stats_max_value AS TIMESTAMP)
        END AS hi,
        m.stats_null_count AS nulls
    FROM parquet_metadata($paths) AS m
    JOIN col ON m.file_name = col.file_name AND m.path_in_schema = col.name
)
SELECT
    file_name,
    CASE WHEN count(*) > 0 AND bool_and(lo IS NOT NULL AND hi IS NOT NULL AND nulls = 0) THEN min(lo) END AS first_ts,
    CASE WHEN count(*) > 0 AND bool_and(lo IS NOT NULL AND hi IS NOT NULL AND nulls = 0) THEN max(hi) END AS last_ts
FROM stats
GROUP BY file_name
