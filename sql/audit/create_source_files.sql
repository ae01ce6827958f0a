-- One row per input file: its hash and the row accounting rows_read = staged + quarantined + pending.
CREATE TABLE IF NOT EXISTS audit.source_files (
    input VARCHAR,
    path VARCHAR,
    format VARCHAR,
    sha256 VARCHAR,
    bytes BIGINT,
    mtime TIMESTAMP,
    rows_read BIGINT,
    rows_staged BIGINT,
    rows_quarantined BIGINT,
    rows_pending BIGINT,
    ingested_at TIMESTAMP,
    run_id VARCHAR
)
