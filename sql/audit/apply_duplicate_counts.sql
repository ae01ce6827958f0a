-- The per-day counts move the duplicate samples the slices found from staged to quarantined.
UPDATE audit.ingest_counts AS c
SET rows_staged = c.rows_staged - d.n, rows_quarantined = c.rows_quarantined + d.n
FROM (SELECT input, source_file, partition_day, count(*) AS n FROM _duplicates GROUP BY ALL) AS d
WHERE c.input = d.input AND c.source_file = d.source_file AND c.partition_day = d.partition_day
