-- Which input files (with hashes) and factor tables (with versions) each table was built from, per run.
CREATE TABLE IF NOT EXISTS audit.table_lineage (
    run_id VARCHAR,
    table_name VARCHAR,
    upstream_kind VARCHAR,
    upstream VARCHAR,
    path VARCHAR,
    sha256 VARCHAR,
    version VARCHAR
)
