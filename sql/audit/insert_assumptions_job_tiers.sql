-- Records, per job, the estimate it rests on (power basis, device count) or why it has no energy.
INSERT INTO audit.assumptions
SELECT
    $run_id,
    $asset,
    'job',
    job_id,
    CASE WHEN tier = 'estimated' THEN 'estimate_power_w' ELSE 'gap' END,
    CASE WHEN tier = 'estimated' THEN CAST(round(estimate_power_w, 3) AS VARCHAR) END,
    CASE WHEN tier = 'estimated' THEN 'W per device' END,
    CASE
        WHEN tier = 'estimated'
            THEN 'no telemetry and no measured energy_kwh: energy = device_count (' || device_count
                || ') x hours x power per device'
        ELSE gap
    END,
    coalesce(estimate_power_basis, 'none'),
    1
FROM intermediate.job_tiers
WHERE tier = 'estimated' OR gap IS NOT NULL
ORDER BY job_id
