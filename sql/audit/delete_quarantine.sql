-- Clears this input's quarantine for the window being re-staged (all of it for unpartitioned inputs).
DELETE FROM audit.quarantine
WHERE input = $input
  AND (
      CAST($window_start AS TIMESTAMP) IS NULL
      OR partition_day IS NULL
      OR (partition_day >= CAST($window_start AS DATE) AND partition_day < CAST($window_end AS DATE))
  )
