-- Files of one input whose every row is already accounted for (no pending rows, none outside the
-- data window) and none of them in the window, with the size and modification time they had then.
-- A file still that size and age cannot hold rows of the window: staging the window skips it unread,
-- so a day's staging reads that day's files, not the whole history.
SELECT s.path, s.bytes, s.mtime
FROM audit.source_files AS s
WHERE s.input = $input
    AND s.sha256 IS NOT NULL
    AND s.rows_pending = 0
    AND NOT EXISTS (
        SELECT 1
        FROM audit.ingest_counts AS c
        WHERE c.input = s.input
            AND c.source_file = s.path
            AND (c.partition_day IS NULL
                 OR (c.partition_day >= CAST($window_start AS DATE) AND c.partition_day < CAST($window_end AS DATE)))
    )
