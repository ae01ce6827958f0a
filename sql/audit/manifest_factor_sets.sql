-- Factor tables of the run, for the manifest.
SELECT factor_table, path, version, sha256, rows
FROM audit.factor_sets
ORDER BY factor_table
