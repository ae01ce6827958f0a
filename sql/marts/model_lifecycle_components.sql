-- The life cycle of each model in long form (model, component, criterion, value, unit) for charts
-- and analysts. Components: each stage's operational impact, 'embodied' (all stages), and
-- 'unallocated' (its pro-rata share of idle capacity when idle_allocation = 'pro_rata'); with
-- 'none', unallocated capacity is its own row with model NULL. Embodied carbon counts in both
-- location- and market-based criteria. Water of the stage and unallocated components is
-- operational; the embodied component's water and ADP are NULL where unknown (not zero).
WITH msi AS (
    SELECT *, $idle_allocation = 'pro_rata' AS pro FROM intermediate.model_stage_impacts
),
stage_rows AS (
    SELECT
        model,
        stage AS component,
        energy_facility_kwh,
        co2e_location_kg,
        co2e_market_kg,
        water_l,
        0.0 AS adp_kgsbeq
    FROM msi
    WHERE NOT (model IS NULL AND stage = 'unallocated')
),
embodied_rows AS (
    SELECT model, 'embodied' AS component, 0.0, sum(embodied_co2e_kg), sum(embodied_co2e_kg),
           sum(embodied_water_l), sum(embodied_adp_kgsbeq)
    FROM msi
    WHERE NOT (model IS NULL AND stage = 'unallocated')
    GROUP BY model
),
idle_rows AS (
    SELECT
        model, 'unallocated' AS component,
        sum(idle_energy_facility_kwh),
        sum(idle_co2e_location_kg + idle_embodied_co2e_kg),
        sum(idle_co2e_market_kg + idle_embodied_co2e_kg),
        sum(idle_water_l),
        sum(idle_embodied_adp_kgsbeq)
    FROM msi
    WHERE pro AND NOT (model IS NULL AND stage = 'unallocated')
    GROUP BY model
    UNION ALL
    SELECT
        NULL, 'unallocated', energy_facility_kwh, co2e_location_kg + embodied_co2e_kg,
        co2e_market_kg + embodied_co2e_kg, water_l, embodied_adp_kgsbeq
    FROM msi
    WHERE NOT pro AND model IS NULL AND stage = 'unallocated'
),
wide AS (
    SELECT * FROM stage_rows
    UNION ALL SELECT * FROM embodied_rows
    UNION ALL SELECT * FROM idle_rows
),
long AS (
    SELECT *
    FROM wide
    UNPIVOT INCLUDE NULLS (value FOR criterion IN (energy_facility_kwh, co2e_location_kg, co2e_market_kg, water_l, adp_kgsbeq))
)
SELECT
    model,
    component,
    criterion,
    value,
    CASE criterion
        WHEN 'energy_facility_kwh' THEN 'kWh'
        WHEN 'co2e_location_kg' THEN 'kgCO2e'
        WHEN 'co2e_market_kg' THEN 'kgCO2e'
        WHEN 'water_l' THEN 'L'
        WHEN 'adp_kgsbeq' THEN 'kg Sb eq'
    END AS unit
FROM long
ORDER BY model NULLS LAST, criterion,
    list_position(['data', 'experimentation', 'training', 'post_training', 'evaluation', 'inference', 'other',
                   'embodied', 'unallocated'], component)
