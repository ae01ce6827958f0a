-- Registers one factor table: version, file hash, row count and its distinct citations.
INSERT INTO audit.factor_sets
SELECT $factor_table, $path, $version, $sha256, count(*), list(DISTINCT source ORDER BY source), $run_id
FROM read_csv($path, header = true, all_varchar = true)
