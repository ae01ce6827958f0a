-- Every real export converted by an importer: its hash and rows_in = rows_out + rows_folded.
CREATE TABLE IF NOT EXISTS audit.imports (
    run_id VARCHAR,
    kind VARCHAR,
    source VARCHAR,
    sha256 VARCHAR,
    output_input VARCHAR,
    output_path VARCHAR,
    rows_in BIGINT,
    rows_out BIGINT,
    rows_flagged BIGINT,
    rows_folded BIGINT,
    rows_written BIGINT,
    notes VARCHAR[]
)
