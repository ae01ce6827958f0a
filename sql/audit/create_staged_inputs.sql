-- One row per unpartitioned input: the key of everything its staging depended on (each file's path
-- and sha256, the files that could not be read, the staging statement, the parameters, the reader's
-- code, the keys of the inputs it is checked against) and what that staging found. A run whose key
-- is unchanged keeps the staged table and its accounting instead of reading the files again. The data
-- window is kept apart from the key: the default one ends tomorrow, so it moves every day (see
-- ingest._kept_staging for when a moved window still keeps the table).
CREATE TABLE IF NOT EXISTS audit.staged_inputs (
    input VARCHAR,
    stage_key VARCHAR,
    run_id VARCHAR,
    staged_at TIMESTAMP,
    files INTEGER,
    rows_staged BIGINT,
    rows_quarantined BIGINT,
    reasons_json VARCHAR,
    content_hash VARCHAR,
    window_start TIMESTAMP,
    window_end TIMESTAMP
)
