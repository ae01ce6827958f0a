-- Per (model, stage): operational impacts, embodied impacts (under the chosen policy and under
-- each policy, for sensitivity), location-based carbon on the other grid basis (for sensitivity),
-- and the stage's pro-rata share of unallocated capacity (by GPU-hours), which the lifecycle marts
-- add only when [lifecycle] idle_allocation = 'pro_rata'. Unallocated capacity itself (and shared
-- infrastructure reported separately) is the row with model NULL and stage 'unallocated'.
-- Embodied water and ADP stay NULL where no hardware record gives them (unknown, not zero).
WITH alt AS (
    SELECT zone, date_trunc('hour', ts) AS hour_start, basis, kind, avg(gco2e_per_kwh) AS g
    FROM staging.grid_intensity
    GROUP BY zone, date_trunc('hour', ts), basis, kind
),
op AS (
    SELECT
        CASE WHEN i.row_kind = 'job' THEN j.model END AS model,
        CASE WHEN i.row_kind = 'job' THEN j.stage ELSE 'unallocated' END AS stage,
        sum(i.gpu_s) / 3600.0 AS gpu_hours,
        sum(i.energy_facility_kwh) AS energy_facility_kwh,
        sum(i.co2e_location_kg) AS co2e_location_kg,
        sum(i.co2e_market_kg) AS co2e_market_kg,
        coalesce(sum(i.water_onsite_l), 0) + coalesce(sum(i.water_offsite_l), 0) AS water_l,
        sum(i.energy_facility_kwh * coalesce(a.g, i.location_gco2e_per_kwh)) / 1000.0 AS co2e_location_alt_basis_kg,
        string_agg(DISTINCT a.basis, ',' ORDER BY a.basis) AS alt_basis
    FROM intermediate.impacts_hourly AS i
    LEFT JOIN staging.jobs AS j USING (job_id)
    LEFT JOIN alt AS a
        ON a.zone = i.zone AND a.hour_start = i.hour_start AND a.kind = i.grid_kind AND a.basis <> i.grid_basis
    GROUP BY 1, 2
),
emb AS (
    SELECT
        CASE WHEN e.row_kind = 'job' THEN j.model END AS model,
        CASE WHEN e.row_kind = 'job' THEN j.stage ELSE 'unallocated' END AS stage,
        sum(e.co2e_kg) AS embodied_co2e_kg,
        sum(e.water_l) AS embodied_water_l,
        sum(e.adp_kgsbeq) AS embodied_adp_kgsbeq,
        sum(e.co2e_calendar_kg) AS embodied_co2e_calendar_kg,
        sum(e.co2e_expected_utilisation_kg) AS embodied_co2e_expected_utilisation_kg,
        sum(e.co2e_measured_kg) AS embodied_co2e_measured_kg
    FROM intermediate.embodied_daily AS e
    LEFT JOIN staging.jobs AS j USING (job_id)
    GROUP BY 1, 2
),
combined AS (
    SELECT
        coalesce(o.model, e.model) AS model,
        coalesce(o.stage, e.stage) AS stage,
        coalesce(o.gpu_hours, 0) AS gpu_hours,
        coalesce(o.energy_facility_kwh, 0) AS energy_facility_kwh,
        coalesce(o.co2e_location_kg, 0) AS co2e_location_kg,
        coalesce(o.co2e_market_kg, 0) AS co2e_market_kg,
        coalesce(o.water_l, 0) AS water_l,
        coalesce(o.co2e_location_alt_basis_kg, 0) AS co2e_location_alt_basis_kg,
        o.alt_basis,
        coalesce(e.embodied_co2e_kg, 0) AS embodied_co2e_kg,
        e.embodied_water_l,
        e.embodied_adp_kgsbeq,
        coalesce(e.embodied_co2e_calendar_kg, 0) AS embodied_co2e_calendar_kg,
        coalesce(e.embodied_co2e_expected_utilisation_kg, 0) AS embodied_co2e_expected_utilisation_kg,
        coalesce(e.embodied_co2e_measured_kg, 0) AS embodied_co2e_measured_kg
    FROM op AS o
    FULL OUTER JOIN emb AS e ON o.model IS NOT DISTINCT FROM e.model AND o.stage = e.stage
),
idle AS (
    SELECT * FROM combined WHERE model IS NULL AND stage = 'unallocated'
),
shares AS (
    SELECT
        c.*,
        CASE
            WHEN c.model IS NULL AND c.stage = 'unallocated' THEN 0
            ELSE c.gpu_hours / nullif(sum(c.gpu_hours) FILTER (WHERE c.model IS NOT NULL OR c.stage <> 'unallocated') OVER (), 0)
        END AS idle_share
    FROM combined AS c
)
SELECT
    s.*,
    s.idle_share * coalesce(i.energy_facility_kwh, 0) AS idle_energy_facility_kwh,
    s.idle_share * coalesce(i.co2e_location_kg, 0) AS idle_co2e_location_kg,
    s.idle_share * coalesce(i.co2e_market_kg, 0) AS idle_co2e_market_kg,
    s.idle_share * coalesce(i.water_l, 0) AS idle_water_l,
    s.idle_share * coalesce(i.co2e_location_alt_basis_kg, 0) AS idle_co2e_location_alt_basis_kg,
    s.idle_share * coalesce(i.embodied_co2e_kg, 0) AS idle_embodied_co2e_kg,
    s.idle_share * i.embodied_water_l AS idle_embodied_water_l,
    s.idle_share * i.embodied_adp_kgsbeq AS idle_embodied_adp_kgsbeq,
    s.idle_share * coalesce(i.embodied_co2e_calendar_kg, 0) AS idle_embodied_co2e_calendar_kg,
    s.idle_share * coalesce(i.embodied_co2e_expected_utilisation_kg, 0) AS idle_embodied_co2e_expected_utilisation_kg,
    s.idle_share * coalesce(i.embodied_co2e_measured_kg, 0) AS idle_embodied_co2e_measured_kg
FROM shares AS s
LEFT JOIN idle AS i ON true
ORDER BY s.model NULLS LAST, s.stage
