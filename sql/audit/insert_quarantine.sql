-- Moves the rows staging flagged into audit.quarantine with their reason and raw text.
INSERT INTO audit.quarantine
SELECT
    $run_id,
    $input,
    source_file,
    source_row,
    qa_column,
    qa_reason,
    qa_raw,
    raw_row,
    partition_day,
    current_timestamp::TIMESTAMP
FROM _stg
WHERE qa_reason IS NOT NULL
ORDER BY source_file, source_row
