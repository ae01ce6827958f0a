-- Counts every row of a quarantined file as quarantined, so its rows_read still balances.
INSERT INTO audit.ingest_counts
SELECT $input, $path, NULL, 0, $rows, $run_id
