-- The input files the selection rests on, with the sha256 recorded when they were staged.
WITH hours AS (
    SELECT min(hour_start) AS h0, max(hour_start) + INTERVAL 1 HOUR AS h1 FROM _explain_rows
),
jobs AS (
    SELECT DISTINCT job_id FROM _explain_rows WHERE job_id IS NOT NULL
),
hosts AS (
    SELECT DISTINCT host FROM intermediate.allocation_hourly WHERE job_id IN (SELECT job_id FROM jobs)
    UNION
    SELECT host FROM staging.hosts
    WHERE site IN (SELECT site FROM _explain_rows WHERE row_kind <> 'job')
),
used AS (
    SELECT 'jobs' AS input, source_file FROM staging.jobs WHERE job_id IN (SELECT job_id FROM jobs)
    UNION
    SELECT 'allocations', source_file FROM staging.allocations WHERE job_id IN (SELECT job_id FROM jobs)
    UNION
    SELECT 'gpu_samples', source_file FROM staging.gpu_samples, hours
    WHERE host IN (SELECT host FROM hosts) AND last_ts >= h0 - INTERVAL 1 HOUR AND first_ts < h1 + INTERVAL 1 HOUR
    UNION
    SELECT 'gpu_energy_minutes', source_file FROM staging.gpu_energy_minutes, hours
    WHERE host IN (SELECT host FROM hosts) AND last_ts >= h0 - INTERVAL 1 HOUR AND first_ts < h1 + INTERVAL 1 HOUR
    UNION
    SELECT 'node_samples', source_file FROM staging.node_samples, hours
    WHERE (host IN (SELECT host FROM hosts)
           OR host IN (SELECT host FROM staging.hosts WHERE role <> 'compute'
                       AND site IN (SELECT site FROM _explain_rows)))
        AND last_ts >= h0 - INTERVAL 1 HOUR AND first_ts < h1 + INTERVAL 1 HOUR
    UNION
    SELECT 'hosts', source_file FROM staging.hosts WHERE host IN (SELECT host FROM hosts)
    UNION
    SELECT 'sites', site_source_file FROM intermediate.site_hourly
    WHERE (site, hour_start) IN (SELECT (site, hour_start) FROM _explain_rows)
    UNION
    SELECT 'grid_intensity', source_file FROM staging.grid_intensity, hours
    WHERE zone IN (SELECT zone FROM _explain_rows) AND ts >= h0 - INTERVAL 1 DAY AND ts < h1 + INTERVAL 1 DAY
    UNION
    SELECT 'energy_contracts', source_file FROM staging.energy_contracts
    WHERE site IN (SELECT site FROM _explain_rows)
    UNION
    SELECT 'residual_mix', source_file FROM staging.residual_mix WHERE zone IN (SELECT zone FROM _explain_rows)
    UNION
    SELECT 'hardware', a.source_file FROM intermediate.asset_embodied AS a
    WHERE a.asset_id IN (SELECT asset_id FROM _explain_embodied)
)
SELECT u.input, u.source_file AS path, f.sha256, f.bytes, f.rows_read, i.kind AS imported_by, i.source AS export_file,
       i.sha256 AS export_sha256
FROM used AS u
LEFT JOIN audit.source_files AS f ON f.input = u.input AND f.path = u.source_file
LEFT JOIN audit.imports AS i ON i.output_path = u.source_file
WHERE u.source_file IS NOT NULL
ORDER BY u.input, u.source_file
