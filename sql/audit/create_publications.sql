-- Every published version of this warehouse: which run made it, when, over which days.
CREATE TABLE IF NOT EXISTS audit.publications (
    run_id VARCHAR,
    published_at TIMESTAMP,
    partition_range VARCHAR,
    settings_hash VARCHAR
)
