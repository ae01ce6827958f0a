-- Input files of the run for the manifest: hash, size and row accounting, in a fixed order.
SELECT input, path, format, sha256, bytes, rows_read, rows_staged, rows_quarantined, rows_pending
FROM audit.source_files
ORDER BY input, path
