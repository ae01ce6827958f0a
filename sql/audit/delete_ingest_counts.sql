-- Clears this input's per-day counts for the window being re-staged.
DELETE FROM audit.ingest_counts
WHERE input = $input
  AND (
      CAST($window_start AS TIMESTAMP) IS NULL
      OR partition_day IS NULL
      OR (partition_day >= CAST($window_start AS DATE) AND partition_day < CAST($window_end AS DATE))
  )
