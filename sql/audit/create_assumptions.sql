-- Every default or fallback the accounting applied: which rows, which value, and why.
CREATE TABLE IF NOT EXISTS audit.assumptions (
    run_id VARCHAR,
    asset VARCHAR,
    subject VARCHAR,
    subject_id VARCHAR,
    parameter VARCHAR,
    value VARCHAR,
    unit VARCHAR,
    reason VARCHAR,
    source VARCHAR,
    rows_affected BIGINT
)
