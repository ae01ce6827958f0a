-- The embodied rows behind one explained number, with the same selection as select_rows.
SELECT
    e.*,
    coalesce(a.kind, 'device default') AS asset_kind,
    CASE WHEN e.row_kind = 'job' THEN j.model END AS model,
    CASE WHEN e.row_kind = 'job' THEN j.stage ELSE e.row_kind END AS stage
FROM intermediate.embodied_daily AS e
LEFT JOIN staging.jobs AS j USING (job_id)
LEFT JOIN intermediate.asset_embodied AS a USING (asset_id)
WHERE (CAST($job AS VARCHAR) IS NOT NULL AND e.job_id = $job)
    OR (
        CAST($job AS VARCHAR) IS NULL
        AND (CASE WHEN e.row_kind = 'job' THEN j.model END) IS NOT DISTINCT FROM CAST($model AS VARCHAR)
        AND (CAST($stage AS VARCHAR) IS NULL OR (CASE WHEN e.row_kind = 'job' THEN j.stage ELSE e.row_kind END) = $stage)
        AND (CAST($date AS DATE) IS NULL OR e.day = CAST($date AS DATE))
        AND (CAST($site AS VARCHAR) IS NULL OR e.row_kind = 'job' OR e.site = $site)
    )
