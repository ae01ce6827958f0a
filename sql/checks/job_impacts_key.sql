-- job_impacts has exactly one row per staged job.
SELECT
    count(*) = count(DISTINCT job_id) AND count(*) = (SELECT count(*) FROM staging.jobs) AS passed,
    count(*) AS rows,
    count(DISTINCT job_id) AS distinct_jobs,
    (SELECT count(*) FROM staging.jobs) AS staged_jobs
FROM marts.job_impacts
