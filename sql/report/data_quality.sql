-- Measured share and methods per model and criterion. Older warehouses lack jobs_embodied_unknown:
-- the empty relation unioned BY NAME supplies it as NULL, and the report shows it only where present.
SELECT
    model,
    criterion,
    total,
    measured_sample_share,
    measured_job_share,
    estimated_share,
    telemetry_coverage,
    grid_fallback_hours,
    embodied_methods,
    jobs_embodied_unknown
FROM (FROM marts.data_quality UNION ALL BY NAME SELECT NULL AS jobs_embodied_unknown WHERE false)
ORDER BY model NULLS LAST, criterion
