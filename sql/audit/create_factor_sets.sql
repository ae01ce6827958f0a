-- Every factor table the run used, with its version, hash and the citations it carries.
CREATE TABLE IF NOT EXISTS audit.factor_sets (
    factor_table VARCHAR,
    path VARCHAR,
    version VARCHAR,
    sha256 VARCHAR,
    rows BIGINT,
    sources VARCHAR[],
    run_id VARCHAR
)
