-- One row per refresh, rebuilt from the run log: what code and settings ran, and how it ended
-- (success, failure with the failing asset or check, abandoned, running).
CREATE TABLE IF NOT EXISTS audit.runs (
    run_id VARCHAR,
    dagster_run_id VARCHAR,
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    status VARCHAR,
    failure VARCHAR,
    checks_failed VARCHAR[],
    published_version VARCHAR,
    launcher VARCHAR,
    pid BIGINT,
    host VARCHAR,
    package_version VARCHAR,
    git_describe VARCHAR,
    settings_hash VARCHAR,
    settings_source VARCHAR,
    settings_json VARCHAR,
    data_dir VARCHAR,
    partition_range VARCHAR
)
