-- Each file's accounting (rows_read = staged + quarantined + pending) again from its per-day counts,
-- after duplicate samples moved between staged and quarantined.
UPDATE audit.source_files AS f
SET rows_staged = c.staged, rows_quarantined = c.quarantined, rows_pending = f.rows_read - c.staged - c.quarantined
FROM (
    SELECT input, source_file, sum(rows_staged) AS staged, sum(rows_quarantined) AS quarantined
    FROM audit.ingest_counts
    WHERE list_contains($inputs, input)
    GROUP BY ALL
) AS c
WHERE f.input = c.input AND f.path = c.source_file
    AND (f.rows_staged IS DISTINCT FROM c.staged OR f.rows_quarantined IS DISTINCT FROM c.quarantined)
