-- Records host-hours where node power was below the GPUs' (non-GPU energy floored at zero).
-- Reads the whole table, not the run's days: the table keeps every day built so far, so a run for
-- one day re-records the other days' hours that audit/delete_assumptions cleared.
INSERT INTO audit.assumptions
SELECT
    $run_id,
    $asset,
    'host',
    host,
    'energy_host_other_kwh',
    '0',
    'kWh',
    'node wall energy below the sum of GPU energy in ' || count(*) || ' hour(s); non-GPU energy floored at 0',
    'intermediate.host_other_hourly',
    count(*)
FROM intermediate.host_other_hourly
WHERE floored_at_zero
GROUP BY host
ORDER BY host
