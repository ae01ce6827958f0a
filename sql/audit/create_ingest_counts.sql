-- Rows staged and quarantined per file and UTC day, so re-running a partition replaces its counts.
CREATE TABLE IF NOT EXISTS audit.ingest_counts (
    input VARCHAR,
    source_file VARCHAR,
    partition_day DATE,
    rows_staged BIGINT,
    rows_quarantined BIGINT,
    run_id VARCHAR
)
