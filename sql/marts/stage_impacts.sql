-- Impacts per (model, stage, UTC date). Unallocated capacity (stage 'unallocated') and, with
-- shared_infra = 'separate', shared infrastructure (stage 'shared_infra') have model NULL and one
-- row per (site, date); job rows have site NULL. Failed, cancelled and preempted runs stay in
-- their stage and are also summed in the wasted_* columns. Job counts are by the job's end date.
-- Embodied impact (intermediate.embodied_daily) joins the same keys; its unallocated part sits on
-- the 'unallocated' rows.
WITH operational AS (
    SELECT
        i.*,
        CAST(i.hour_start AS DATE) AS date,
        CASE WHEN i.row_kind = 'job' THEN j.model END AS model,
        CASE WHEN i.row_kind = 'job' THEN j.stage ELSE i.row_kind END AS stage,
        CASE WHEN i.row_kind = 'job' THEN NULL ELSE i.site END AS site_key,
        coalesce(j.state IN ('FAILED', 'CANCELLED', 'PREEMPTED'), false) AS wasted
    FROM intermediate.impacts_hourly AS i
    LEFT JOIN staging.jobs AS j USING (job_id)
),
embodied AS (
    SELECT
        e.day AS date,
        CASE WHEN e.row_kind = 'job' THEN j.model END AS model,
        CASE WHEN e.row_kind = 'job' THEN j.stage ELSE e.row_kind END AS stage,
        CASE WHEN e.row_kind = 'job' THEN NULL ELSE e.site END AS site_key,
        coalesce(j.state IN ('FAILED', 'CANCELLED', 'PREEMPTED'), false) AS wasted,
        e.co2e_kg AS embodied_co2e_kg,
        e.water_l AS embodied_water_l,
        e.adp_kgsbeq AS embodied_adp_kgsbeq,
        true AS embodied_row
    FROM intermediate.embodied_daily AS e
    LEFT JOIN staging.jobs AS j USING (job_id)
),
rows AS (
    SELECT * FROM operational
    UNION ALL BY NAME
    SELECT * FROM embodied
),
agg AS (
    SELECT
        model,
        stage,
        date,
        site_key AS site,
        sum(gpu_s) / 3600.0 AS gpu_hours,
        sum(energy_gpu_kwh) AS energy_gpu_kwh,
        sum(energy_host_other_kwh) AS energy_host_other_kwh,
        sum(energy_shared_kwh) AS energy_shared_kwh,
        sum(energy_unsplit_kwh) AS energy_unsplit_kwh,
        sum(energy_it_kwh) AS energy_it_kwh,
        sum(energy_facility_kwh) AS energy_facility_kwh,
        sum(co2e_location_kg) AS co2e_location_kg,
        sum(co2e_market_kg) AS co2e_market_kg,
        sum(water_onsite_l) AS water_onsite_l,
        sum(water_offsite_l) AS water_offsite_l,
        sum(embodied_co2e_kg) AS embodied_co2e_kg,
        count(embodied_co2e_kg) AS embodied_known_rows,
        count(*) FILTER (WHERE embodied_row AND embodied_co2e_kg IS NULL) AS embodied_unknown_rows,
        sum(embodied_water_l) AS embodied_water_l,
        sum(embodied_adp_kgsbeq) AS embodied_adp_kgsbeq,
        coalesce(sum(embodied_co2e_kg) FILTER (WHERE wasted), 0) AS wasted_embodied_co2e_kg,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_sample'), 0) AS energy_measured_sample_kwh,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_job'), 0) AS energy_measured_job_kwh,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'estimated'), 0) AS energy_estimated_kwh,
        coalesce(sum(gpu_s) FILTER (WHERE wasted), 0) / 3600.0 AS wasted_gpu_hours,
        coalesce(sum(energy_it_kwh) FILTER (WHERE wasted), 0) AS wasted_energy_it_kwh,
        coalesce(sum(energy_facility_kwh) FILTER (WHERE wasted), 0) AS wasted_energy_facility_kwh,
        coalesce(sum(co2e_location_kg) FILTER (WHERE wasted), 0) AS wasted_co2e_location_kg,
        coalesce(sum(co2e_market_kg) FILTER (WHERE wasted), 0) AS wasted_co2e_market_kg,
        string_agg(DISTINCT grid_basis, ',' ORDER BY grid_basis) AS grid_basis,
        string_agg(DISTINCT grid_kind, ',' ORDER BY grid_kind) AS grid_kind,
        string_agg(DISTINCT market_basis, '; ' ORDER BY market_basis) AS market_basis,
        count(DISTINCT (zone, hour_start)) FILTER (WHERE grid_fallback NOT IN ('reported', 'constant')) AS grid_fallback_hours
    FROM rows
    GROUP BY model, stage, date, site_key
),
job_counts AS (
    SELECT
        model,
        stage,
        CAST("end" AS DATE) AS date,
        count(*) FILTER (WHERE state = 'COMPLETED') AS jobs_completed,
        count(*) FILTER (WHERE state = 'FAILED') AS jobs_failed,
        count(*) FILTER (WHERE state = 'CANCELLED') AS jobs_cancelled,
        count(*) FILTER (WHERE state = 'TIMEOUT') AS jobs_timeout,
        count(*) FILTER (WHERE state = 'PREEMPTED') AS jobs_preempted,
        count(*) FILTER (WHERE state = 'RUNNING') AS jobs_running
    FROM staging.jobs
    GROUP BY model, stage, CAST("end" AS DATE)
)
SELECT
    coalesce(a.model, c.model) AS model,
    coalesce(a.stage, c.stage) AS stage,
    coalesce(a.date, c.date) AS date,
    a.site,
    coalesce(a.gpu_hours, 0) AS gpu_hours,
    coalesce(a.energy_gpu_kwh, 0) AS energy_gpu_kwh,
    coalesce(a.energy_host_other_kwh, 0) AS energy_host_other_kwh,
    coalesce(a.energy_shared_kwh, 0) AS energy_shared_kwh,
    coalesce(a.energy_unsplit_kwh, 0) AS energy_unsplit_kwh,
    coalesce(a.energy_it_kwh, 0) AS energy_it_kwh,
    coalesce(a.energy_facility_kwh, 0) AS energy_facility_kwh,
    coalesce(a.co2e_location_kg, 0) AS operational_co2e_location_kg,
    coalesce(a.co2e_market_kg, 0) AS operational_co2e_market_kg,
    a.water_onsite_l,
    a.water_offsite_l,
    -- only unknown embodied values on the row (jobs without a device count): unknown, not 0
    CASE WHEN a.embodied_known_rows = 0 AND a.embodied_unknown_rows > 0 THEN NULL
         ELSE coalesce(a.embodied_co2e_kg, 0) END AS embodied_co2e_kg,
    a.embodied_water_l,
    a.embodied_adp_kgsbeq,
    coalesce(c.jobs_completed, 0) AS jobs_completed,
    coalesce(c.jobs_failed, 0) AS jobs_failed,
    coalesce(c.jobs_cancelled, 0) AS jobs_cancelled,
    coalesce(c.jobs_timeout, 0) AS jobs_timeout,
    coalesce(c.jobs_preempted, 0) AS jobs_preempted,
    coalesce(c.jobs_running, 0) AS jobs_running,
    coalesce(a.wasted_gpu_hours, 0) AS wasted_gpu_hours,
    coalesce(a.wasted_energy_it_kwh, 0) AS wasted_energy_it_kwh,
    coalesce(a.wasted_energy_facility_kwh, 0) AS wasted_energy_facility_kwh,
    coalesce(a.wasted_co2e_location_kg, 0) AS wasted_operational_co2e_location_kg,
    coalesce(a.wasted_co2e_market_kg, 0) AS wasted_operational_co2e_market_kg,
    coalesce(a.wasted_embodied_co2e_kg, 0) AS wasted_embodied_co2e_kg,
    coalesce(a.energy_measured_sample_kwh, 0) AS energy_measured_sample_kwh,
    coalesce(a.energy_measured_job_kwh, 0) AS energy_measured_job_kwh,
    coalesce(a.energy_estimated_kwh, 0) AS energy_estimated_kwh,
    a.grid_basis,
    a.grid_kind,
    a.market_basis,
    coalesce(a.grid_fallback_hours, 0) AS grid_fallback_hours
FROM agg AS a
FULL OUTER JOIN job_counts AS c
    ON a.site IS NULL
    AND a.model IS NOT DISTINCT FROM c.model
    AND a.stage = c.stage
    AND a.date = c.date
ORDER BY date, stage, model NULLS LAST, site NULLS FIRST
