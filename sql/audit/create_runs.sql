-- One row per pipeline run: what code and settings produced the tables.
CREATE TABLE IF NOT EXISTS audit.runs (
    run_id VARCHAR,
    dagster_run_id VARCHAR,
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    package_version VARCHAR,
    git_describe VARCHAR,
    settings_hash VARCHAR,
    settings_source VARCHAR,
    settings_json VARCHAR,
    data_dir VARCHAR,
    partition_range VARCHAR,
    status VARCHAR
)
