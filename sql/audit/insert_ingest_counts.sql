-- Records rows staged and quarantined per file and day for this window.
INSERT INTO audit.ingest_counts
SELECT
    $input,
    source_file,
    partition_day,
    rows_staged,
    rows_quarantined,
    $run_id
FROM _stg_counts
