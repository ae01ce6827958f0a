-- The latest run for the report's header (columns an older audit.runs lacks come back NULL).
SELECT run_id, partition_range, ended_at, status
FROM (
    FROM audit.runs
    UNION ALL BY NAME
    SELECT NULL AS started_at, NULL AS ended_at, NULL AS status, NULL AS partition_range WHERE false
)
ORDER BY started_at DESC NULLS LAST, run_id DESC
LIMIT 1
