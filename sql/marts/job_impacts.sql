-- One row per job: its tier, GPU-hours, energy by component, facility energy, carbon (location
-- and market), water, and the figures it reported itself (kept for comparison, never used).
-- Embodied impact comes from intermediate.embodied_daily.
-- A job whose energy cannot be known (tier 'unknown') has NULL measures and says why in gap.
WITH impacts AS (
    SELECT
        job_id,
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
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_sample'), 0) AS energy_measured_sample_kwh,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'measured_job'), 0) AS energy_measured_job_kwh,
        coalesce(sum(energy_it_kwh) FILTER (WHERE tier = 'estimated'), 0) AS energy_estimated_kwh,
        string_agg(DISTINCT grid_fallback, ',' ORDER BY grid_fallback) AS grid_fallbacks,
        string_agg(DISTINCT grid_basis, ',' ORDER BY grid_basis) AS grid_basis,
        string_agg(DISTINCT grid_kind, ',' ORDER BY grid_kind) AS grid_kind,
        string_agg(DISTINCT market_basis, '; ' ORDER BY market_basis) AS market_basis
    FROM intermediate.impacts_hourly
    WHERE row_kind = 'job'
    GROUP BY job_id
),
embodied AS (
    SELECT
        job_id,
        sum(co2e_kg) AS embodied_co2e_kg,
        sum(water_l) AS embodied_water_l,
        sum(adp_kgsbeq) AS embodied_adp_kgsbeq,
        bool_or(asset_id IS NULL) AS embodied_from_device_default
    FROM intermediate.embodied_daily
    WHERE row_kind = 'job'
    GROUP BY job_id
)
SELECT
    j.job_id,
    j.model,
    j.stage,
    j.stage_label,
    j.state,
    j."start" AS started_at,
    j."end" AS ended_at,
    j.project,
    j."user",
    t.site,
    t.tier,
    t.device_count,
    t.device_model,
    t.telemetry_coverage,
    t.estimate_power_w,
    t.estimate_power_basis,
    t.gap,
    j.state IN ('FAILED', 'CANCELLED', 'PREEMPTED') AS wasted,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.gpu_hours, 0) END AS gpu_hours,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_gpu_kwh, 0) END AS energy_gpu_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_host_other_kwh, 0) END AS energy_host_other_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_shared_kwh, 0) END AS energy_shared_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_unsplit_kwh, 0) END AS energy_unsplit_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_it_kwh, 0) END AS energy_it_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.energy_facility_kwh, 0) END AS energy_facility_kwh,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.co2e_location_kg, 0) END AS operational_co2e_location_kg,
    CASE WHEN t.tier <> 'unknown' THEN coalesce(i.co2e_market_kg, 0) END AS operational_co2e_market_kg,
    i.water_onsite_l,
    i.water_offsite_l,
    e.embodied_co2e_kg,
    e.embodied_water_l,
    e.embodied_adp_kgsbeq,
    coalesce(e.embodied_from_device_default, false) AS embodied_from_device_default,
    coalesce(i.energy_measured_sample_kwh, 0) AS energy_measured_sample_kwh,
    coalesce(i.energy_measured_job_kwh, 0) AS energy_measured_job_kwh,
    coalesce(i.energy_estimated_kwh, 0) AS energy_estimated_kwh,
    i.grid_fallbacks,
    i.grid_basis,
    i.grid_kind,
    i.market_basis,
    j.energy_kwh AS reported_energy_kwh,
    j.codecarbon_emissions_kg AS reported_codecarbon_co2e_kg
FROM staging.jobs AS j
LEFT JOIN intermediate.job_tiers AS t USING (job_id)
LEFT JOIN impacts AS i USING (job_id)
LEFT JOIN embodied AS e USING (job_id)
ORDER BY j.job_id
