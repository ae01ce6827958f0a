-- For every (table, upstream staging input) pair: the input's files and hashes, or the factor
-- table's version and hash.
WITH pairs AS (
    SELECT unnest($tables) AS table_name, unnest($upstreams) AS upstream
)
INSERT INTO audit.table_lineage
SELECT $run_id, p.table_name, 'input', p.upstream, f.path, f.sha256, NULL
FROM pairs AS p
JOIN audit.source_files AS f ON f.input = p.upstream
UNION ALL
SELECT $run_id, p.table_name, 'factor_table', p.upstream, s.path, s.sha256, s.version
FROM pairs AS p
JOIN audit.factor_sets AS s ON s.factor_table = p.upstream
ORDER BY 2, 3, 4, 5
