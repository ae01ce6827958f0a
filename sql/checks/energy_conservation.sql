-- Measured IT energy = energy attributed to jobs + unallocated (+ shared infrastructure rows),
-- per component, to 1e-9 relative.
WITH measured AS (
    SELECT
        (SELECT coalesce(sum(energy_gpu_kwh), 0) FROM intermediate.gpu_hourly) AS gpu_kwh,
        (SELECT coalesce(sum(energy_kwh), 0) FROM intermediate.host_other_hourly WHERE role = 'compute') AS host_other_kwh,
        (SELECT coalesce(sum(energy_kwh), 0) FROM intermediate.host_other_hourly WHERE role <> 'compute') AS shared_kwh
),
ledger AS (
    SELECT
        coalesce(sum(energy_gpu_kwh), 0) AS gpu_kwh,
        coalesce(sum(energy_host_other_kwh), 0) AS host_other_kwh,
        coalesce(sum(energy_shared_kwh), 0) AS shared_kwh
    FROM intermediate.energy_ledger_hourly
    WHERE tier = 'measured_sample'
)
SELECT
    abs(l.gpu_kwh - m.gpu_kwh) <= 1e-9 * greatest(abs(m.gpu_kwh), 1e-6)
        AND abs(l.host_other_kwh - m.host_other_kwh) <= 1e-9 * greatest(abs(m.host_other_kwh), 1e-6)
        AND abs(l.shared_kwh - m.shared_kwh) <= 1e-9 * greatest(abs(m.shared_kwh), 1e-6) AS passed,
    m.gpu_kwh AS measured_gpu_kwh,
    l.gpu_kwh AS ledger_gpu_kwh,
    m.host_other_kwh AS measured_host_other_kwh,
    l.host_other_kwh AS ledger_host_other_kwh,
    m.shared_kwh AS measured_shared_kwh,
    l.shared_kwh AS ledger_shared_kwh
FROM measured AS m, ledger AS l
