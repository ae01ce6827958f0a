-- Every run recorded in audit.runs. Older warehouses lack some columns: the empty relation unioned
-- BY NAME supplies them as NULL, and the report shows only the columns the table has.
SELECT
    run_id,
    started_at,
    ended_at,
    status,
    partition_range,
    package_version,
    git_describe,
    settings_hash,
    settings_source,
    data_dir
FROM (
    FROM audit.runs
    UNION ALL BY NAME
    SELECT
        NULL AS started_at, NULL AS ended_at, NULL AS status, NULL AS partition_range,
        NULL AS package_version, NULL AS git_describe, NULL AS settings_hash, NULL AS settings_source,
        NULL AS data_dir
    WHERE false
)
ORDER BY started_at NULLS LAST, run_id
