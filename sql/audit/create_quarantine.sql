-- Rows that failed a contract check: never dropped, always with file, row, column and reason.
CREATE TABLE IF NOT EXISTS audit.quarantine (
    run_id VARCHAR,
    input VARCHAR,
    source_file VARCHAR,
    source_row BIGINT,
    column_name VARCHAR,
    reason VARCHAR,
    raw_value VARCHAR,
    raw_row JSON,
    partition_day DATE,
    quarantined_at TIMESTAMP
)
