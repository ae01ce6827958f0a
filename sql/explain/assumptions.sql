-- Assumptions recorded for the selected jobs, zones and hosts.
SELECT asset, subject, subject_id, parameter, value, unit, reason, source, rows_affected
FROM audit.assumptions
WHERE (subject = 'job' AND subject_id IN (SELECT job_id FROM _explain_rows))
    OR (subject = 'zone' AND subject_id IN (SELECT zone FROM _explain_rows))
    OR (subject = 'host' AND subject_id IN (
        SELECT host FROM intermediate.allocation_hourly WHERE job_id IN (SELECT job_id FROM _explain_rows)))
ORDER BY subject, subject_id, parameter
