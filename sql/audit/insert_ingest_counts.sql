-- Records rows staged and quarantined per file and day for this window.
INSERT INTO audit.ingest_counts
SELECT
    $input,
    source_file,
    partition_day,
    count(*) FILTER (WHERE qa_reason IS NULL),
    count(*) FILTER (WHERE qa_reason IS NOT NULL),
    $run_id
FROM _stg
GROUP BY source_file, partition_day
