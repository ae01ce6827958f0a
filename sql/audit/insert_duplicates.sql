-- The duplicate samples the hourly-energy slices found (temp `_duplicates`), into the quarantine.
INSERT INTO audit.quarantine
SELECT
    $run_id,
    input,
    source_file,
    source_row,
    column_name,
    reason,
    raw_value,
    raw_row,
    partition_day,
    current_timestamp::TIMESTAMP
FROM _duplicates
ORDER BY input, source_file, source_row
