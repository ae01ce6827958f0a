-- A file that could not be staged at all: one quarantine row for the whole file (source_row NULL).
INSERT INTO audit.quarantine
SELECT
    $run_id,
    $input,
    $path,
    NULL,
    NULL,
    $reason,
    NULL,
    NULL,
    NULL,
    current_timestamp::TIMESTAMP
