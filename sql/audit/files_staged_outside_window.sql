-- Files of one input whose every row is accounted for by the per-day counts (none outside the data
-- window) and none of them in the window, with the size and modification time they had then.
-- A file still that size and age cannot hold rows of the window: staging the window skips it unread,
-- so a day's staging reads that day's files, not the whole history. The counts are summed here
-- rather than read from rows_pending: a window re-staged while the file was away deleted its
-- counts for that window, and the file must then be read again when it is back.
SELECT s.path, s.bytes, s.mtime
FROM audit.source_files AS s
JOIN (
    SELECT
        source_file,
        sum(rows_staged + rows_quarantined) AS accounted,
        bool_or(partition_day IS NULL
                OR (partition_day >= CAST($window_start AS DATE) AND partition_day < CAST($window_end AS DATE))) AS touches
    FROM audit.ingest_counts
    WHERE input = $input
    GROUP BY source_file
) AS c ON c.source_file = s.path
WHERE s.input = $input
    AND s.sha256 IS NOT NULL
    AND c.accounted = s.rows_read
    AND NOT c.touches
