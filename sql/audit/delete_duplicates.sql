-- The window's duplicate samples, quarantined by an earlier hourly-energy run, before they are replaced.
DELETE FROM audit.quarantine
WHERE list_contains($inputs, input)
    AND starts_with(reason, 'duplicate key')
    AND partition_day >= CAST($window_start AS DATE)
    AND partition_day < CAST($window_end AS DATE)
