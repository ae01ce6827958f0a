-- Each model's impacts in long form, by part of the functional-unit formula:
--   upfront   = the stages in [lifecycle] upfront_stages (default experimentation, training,
--               post_training), with their embodied share;
--   inference = the inference stage with its embodied share (the marginal cost of serving);
--   other     = the remaining stages (data, evaluation, other by default), reported, not in C_FU;
--   shared    = shared development: the whole footprint of family members that serve no requests
--               (e.g. a base model), split across the family's serving members in proportion to
--               their lifetime requests.
-- With idle_allocation = 'pro_rata' each part includes its share of unallocated capacity by
-- GPU-hours; the measure 'sci' always does (SCI's boundary includes idle machines).
-- Measures: energy (facility kWh), op_cl / op_cm (operational kgCO2e, location / market),
-- op_cl_alt (location-based on the other grid basis), emb (embodied kgCO2e under the policy),
-- emb_calendar / emb_expected_utilisation / emb_measured, water (operational L), emb_water (embodied L),
-- adp (kg Sb eq), sci. A measure no hardware record gives (embodied water, ADP) has no row: unknown.
WITH msi AS (
    SELECT *, $idle_allocation = 'pro_rata' AS pro
    FROM intermediate.model_stage_impacts
    WHERE model IS NOT NULL
),
per_part AS (
    SELECT
        model,
        CASE
            WHEN stage = 'inference' THEN 'inference'
            WHEN list_contains($upfront_stages, stage) THEN 'upfront'
            ELSE 'other'
        END AS part,
        sum(energy_facility_kwh + CASE WHEN pro THEN idle_energy_facility_kwh ELSE 0 END) AS energy,
        sum(co2e_location_kg + CASE WHEN pro THEN idle_co2e_location_kg ELSE 0 END) AS op_cl,
        sum(co2e_market_kg + CASE WHEN pro THEN idle_co2e_market_kg ELSE 0 END) AS op_cm,
        sum(co2e_location_alt_basis_kg + CASE WHEN pro THEN idle_co2e_location_alt_basis_kg ELSE 0 END) AS op_cl_alt,
        sum(embodied_co2e_kg + CASE WHEN pro THEN idle_embodied_co2e_kg ELSE 0 END) AS emb,
        sum(embodied_co2e_calendar_kg + CASE WHEN pro THEN idle_embodied_co2e_calendar_kg ELSE 0 END) AS emb_calendar,
        sum(embodied_co2e_expected_utilisation_kg
            + CASE WHEN pro THEN idle_embodied_co2e_expected_utilisation_kg ELSE 0 END) AS emb_expected_utilisation,
        sum(embodied_co2e_measured_kg + CASE WHEN pro THEN idle_embodied_co2e_measured_kg ELSE 0 END) AS emb_measured,
        sum(water_l + CASE WHEN pro THEN idle_water_l ELSE 0 END) AS water,
        sum(embodied_water_l + CASE WHEN pro THEN idle_embodied_water_l ELSE 0 END) AS emb_water,
        sum(embodied_adp_kgsbeq + CASE WHEN pro THEN idle_embodied_adp_kgsbeq ELSE 0 END) AS adp,
        sum(co2e_location_kg + idle_co2e_location_kg + embodied_co2e_kg + idle_embodied_co2e_kg) AS sci
    FROM msi
    GROUP BY 1, 2
),
requests AS (
    SELECT model, sum(requests) AS requests_to_date FROM staging.inference_usage GROUP BY model
),
models AS (
    SELECT
        m.model,
        coalesce(md.family, m.model) AS family,
        coalesce(r.requests_to_date, 0) AS requests_to_date,
        md.expected_lifetime_requests,
        coalesce(md.expected_lifetime_requests, r.requests_to_date) AS lifetime_requests_used
    FROM (SELECT model FROM per_part UNION SELECT model FROM requests UNION SELECT model FROM staging.models) AS m
    LEFT JOIN staging.models AS md USING (model)
    LEFT JOIN requests AS r USING (model)
),
long AS (
    UNPIVOT per_part
    ON energy, op_cl, op_cm, op_cl_alt, emb, emb_calendar, emb_expected_utilisation, emb_measured, water, emb_water,
        adp, sci
    INTO NAME measure VALUE value
),
donors AS (
    -- members that serve nothing hand their whole footprint to the family's serving members
    SELECT m.family, l.measure, sum(l.value) AS value
    FROM long AS l
    JOIN models AS m USING (model)
    WHERE m.requests_to_date = 0
    GROUP BY m.family, l.measure
),
receivers AS (
    SELECT
        model,
        family,
        lifetime_requests_used / sum(lifetime_requests_used) OVER (PARTITION BY family) AS share
    FROM models
    WHERE requests_to_date > 0 AND lifetime_requests_used > 0
)
SELECT model, part, measure, value FROM long
UNION ALL
SELECT r.model, 'shared' AS part, d.measure, d.value * r.share AS value
FROM receivers AS r
JOIN donors AS d USING (family)
ORDER BY model, part, measure
