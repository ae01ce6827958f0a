-- Before the window's duplicate samples are quarantined again: the per-day counts take back, as
-- staged, those an earlier hourly-energy run quarantined, so replacing them never counts twice.
UPDATE audit.ingest_counts AS c
SET rows_staged = c.rows_staged + d.n, rows_quarantined = c.rows_quarantined - d.n
FROM (
    SELECT input, source_file, partition_day, count(*) AS n
    FROM audit.quarantine
    WHERE list_contains($inputs, input)
        AND starts_with(reason, 'duplicate key')
        AND partition_day >= CAST($window_start AS DATE)
        AND partition_day < CAST($window_end AS DATE)
    GROUP BY ALL
) AS d
WHERE c.input = d.input AND c.source_file = d.source_file AND c.partition_day = d.partition_day
