-- The factor tables of the run, with version, hash and citations.
SELECT factor_table, version, sha256, rows, sources FROM audit.factor_sets ORDER BY factor_table
