-- The hourly ledger rows behind one explained number: one job, or the (model, stage, date, site)
-- selection of a marts.stage_impacts row (model NULL selects unallocated or model-less rows).
SELECT
    i.*,
    CAST(i.hour_start AS DATE) AS date,
    CASE WHEN i.row_kind = 'job' THEN j.model END AS model,
    CASE WHEN i.row_kind = 'job' THEN j.stage ELSE i.row_kind END AS stage
FROM intermediate.impacts_hourly AS i
LEFT JOIN staging.jobs AS j USING (job_id)
WHERE (CAST($job AS VARCHAR) IS NOT NULL AND i.job_id = $job)
    OR (
        CAST($job AS VARCHAR) IS NULL
        AND (CASE WHEN i.row_kind = 'job' THEN j.model END) IS NOT DISTINCT FROM CAST($model AS VARCHAR)
        AND (CAST($stage AS VARCHAR) IS NULL OR (CASE WHEN i.row_kind = 'job' THEN j.stage ELSE i.row_kind END) = $stage)
        AND (CAST($date AS DATE) IS NULL OR CAST(i.hour_start AS DATE) = CAST($date AS DATE))
        AND (CAST($site AS VARCHAR) IS NULL OR i.row_kind = 'job' OR i.site = $site)
    )
