-- One row per hardware record: method and basis, total embodied impact, and how the total splits
-- into life before the study period, allocated to jobs and unallocated during it, and remaining
-- after it: pre_period + allocated + unallocated + remaining = total.
WITH period AS (
    SELECT min(day) AS d0, max(day) + 1 AS d1 FROM intermediate.embodied_daily
),
daily AS (
    SELECT
        asset_id,
        sum(co2e_kg) FILTER (WHERE row_kind = 'job') AS allocated_co2e_kg,
        sum(co2e_kg) FILTER (WHERE row_kind = 'unallocated') AS unallocated_co2e_kg,
        sum(water_l) FILTER (WHERE row_kind = 'job') AS allocated_water_l,
        sum(adp_kgsbeq) FILTER (WHERE row_kind = 'job') AS allocated_adp_kgsbeq,
        sum(use_h) FILTER (WHERE row_kind = 'job') AS used_asset_hours,
        sum(use_h) AS service_hours_in_period
    FROM intermediate.embodied_daily
    WHERE asset_id IS NOT NULL
    GROUP BY asset_id
),
spans AS (
    SELECT
        a.*,
        p.d0 AS period_start,
        p.d1 AS period_end,
        greatest(0, date_diff('second', CAST(a.in_service AS TIMESTAMP), least(a.life_end, CAST(p.d0 AS TIMESTAMP)))) / 3600.0 AS pre_hours,
        greatest(0, date_diff('second', greatest(CAST(a.in_service AS TIMESTAMP), CAST(p.d1 AS TIMESTAMP)), a.life_end)) / 3600.0 AS post_hours
    FROM intermediate.asset_embodied AS a
    CROSS JOIN period AS p
)
SELECT
    s.asset_id,
    s.kind,
    s.model,
    s.quantity,
    s.site,
    s.host,
    s.gpu,
    s.scope,
    s.embodied_method,
    s.embodied_basis,
    s.in_service,
    s.retired,
    s.retired_early,
    s.life_hours,
    s.total_co2e_kg,
    s.total_co2e_low_kg,
    s.total_co2e_high_kg,
    s.total_water_l,
    s.total_adp_kgsbeq,
    s.period_start,
    s.period_end,
    s.total_co2e_kg * s.pre_hours / s.life_hours AS pre_period_co2e_kg,
    coalesce(d.allocated_co2e_kg, CASE WHEN s.total_co2e_kg IS NOT NULL THEN 0 END) AS allocated_co2e_kg,
    coalesce(d.unallocated_co2e_kg, CASE WHEN s.total_co2e_kg IS NOT NULL THEN 0 END) AS unallocated_co2e_kg,
    s.total_co2e_kg * s.post_hours / s.life_hours AS remaining_co2e_kg,
    d.allocated_water_l,
    d.allocated_adp_kgsbeq,
    coalesce(d.used_asset_hours, 0) AS used_asset_hours,
    coalesce(d.service_hours_in_period, 0) AS service_hours_in_period,
    CASE WHEN s.total_co2e_kg IS NULL THEN 'co2e' END AS missing_co2e,
    concat_ws(',',
        CASE WHEN s.total_water_l IS NULL THEN 'water' END,
        CASE WHEN s.total_adp_kgsbeq IS NULL THEN 'adp' END) AS missing_criteria
FROM spans AS s
LEFT JOIN daily AS d USING (asset_id)
ORDER BY s.asset_id
