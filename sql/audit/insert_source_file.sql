-- Writes one file's hash and row accounting; pending rows lie in partitions not yet staged.
INSERT INTO audit.source_files
WITH counts AS (
    SELECT
        coalesce(sum(rows_staged), 0) AS staged,
        coalesce(sum(rows_quarantined), 0) AS quarantined
    FROM audit.ingest_counts
    WHERE input = $input AND source_file = $path
)
SELECT
    $input,
    $path,
    $format,
    $sha256,
    $bytes,
    $mtime,
    $rows_read,
    staged,
    quarantined,
    $rows_read - staged - quarantined,
    current_timestamp::TIMESTAMP,
    $run_id
FROM counts
