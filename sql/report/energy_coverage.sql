-- Energy by measurement tier: 'model' rows first, then the 'fleet' row.
SELECT
    scope,
    model,
    energy_it_kwh,
    energy_measured_sample_kwh,
    energy_measured_job_kwh,
    energy_estimated_kwh,
    measured_share,
    telemetry_coverage,
    grid_hours_interpolated,
    grid_hours_nearest,
    grid_hours_annual_mean
FROM marts.energy_coverage
ORDER BY scope DESC, model NULLS LAST
