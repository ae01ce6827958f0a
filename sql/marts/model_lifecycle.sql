-- One row per model, one per model family and one for unallocated capacity: life-cycle totals and
-- the functional-unit results. Per 1,000 requests (paper section 3.5):
--   C_FU = marginal inference cost + (up-front + shared development) / lifetime requests,
-- each part with its embodied share; lifetime requests are the model's expected lifetime requests
-- when given, else its requests to date (lifetime_requests_basis says which). Break-even is the
-- request count at which cumulative inference impact equals the up-front impact, for location-based
-- carbon (break_even_requests), facility energy and market-based carbon. The SCI score
-- (GSF SCI v1.1) is (O + M) per request for serving: inference operational (location-based) +
-- embodied + its share of idle capacity, in gCO2e per request. water_l is operational water
-- (on-site + off-site); embodied water and ADP are NULL where no hardware record gives them.
-- Names say their scope: total_* = operational + embodied, operational_* = use phase only.
-- offsets_retired_tco2e: offsets retired for the model (input offsets), never netted from Scope 2.
-- *_p05 / *_p50 / *_p95: the 90 % interval and median from intermediate.model_uncertainty (model rows).
-- Per 1,000 tokens (model rows whose every inference_usage row has tokens_in and tokens_out): C_FU per
-- request / tokens per request to date, so lifetime tokens = lifetime requests x tokens per request.
WITH parts AS (
    SELECT * FROM intermediate.model_parts
),
models AS (
    SELECT
        m.model,
        coalesce(md.family, m.model) AS family,
        CAST(coalesce(r.requests, 0) AS BIGINT) AS requests_to_date,
        md.expected_lifetime_requests
    FROM (SELECT DISTINCT model FROM parts UNION SELECT model FROM staging.inference_usage) AS m
    LEFT JOIN staging.models AS md USING (model)
    LEFT JOIN (SELECT model, sum(requests) AS requests FROM staging.inference_usage GROUP BY model) AS r USING (model)
),
member_rows AS (
    SELECT
        'model' AS row_type,
        m.model,
        m.family,
        m.requests_to_date,
        m.expected_lifetime_requests,
        p.part,
        p.measure,
        p.value
    FROM models AS m
    LEFT JOIN parts AS p USING (model)
),
family_requests AS (
    SELECT family, CAST(sum(requests_to_date) AS BIGINT) AS requests_to_date FROM models GROUP BY family
),
family_rows AS (
    -- a family is the sum of its members' own footprints; shared development is already in them
    SELECT
        'family' AS row_type,
        m.family AS model,
        m.family,
        fr.requests_to_date,
        NULL AS expected_lifetime_requests,
        p.part,
        p.measure,
        sum(p.value) AS value
    FROM parts AS p
    JOIN models AS m USING (model)
    JOIN family_requests AS fr USING (family)
    WHERE p.part <> 'shared'
    GROUP BY m.family, fr.requests_to_date, p.part, p.measure
),
idle_shares AS (
    SELECT model, sum(idle_co2e_location_kg + idle_embodied_co2e_kg) AS idle_co2e_kg
    FROM intermediate.model_stage_impacts
    WHERE model IS NOT NULL
    GROUP BY model
),
tokens AS (
    SELECT model, CAST(sum(tokens_in + tokens_out) AS BIGINT) AS tokens_to_date
    FROM staging.inference_usage
    GROUP BY model
    HAVING count(*) = count(tokens_in + tokens_out) AND sum(tokens_in + tokens_out) > 0
),
offsets AS (
    -- retired offsets per model, reported beside Scope 2 and never netted from it
    SELECT model, sum(tco2e) AS tco2e FROM staging.offsets WHERE model IS NOT NULL GROUP BY model
),
family_lifetime AS (
    SELECT family, sum(coalesce(expected_lifetime_requests, requests_to_date)) FILTER (WHERE requests_to_date > 0)
        AS lifetime
    FROM models
    GROUP BY family
),
all_rows AS (
    SELECT * FROM member_rows
    UNION ALL
    SELECT * FROM family_rows
),
wide AS (
    SELECT
        row_type,
        model,
        family,
        max(requests_to_date) AS requests_to_date,
        max(expected_lifetime_requests) AS expected_lifetime_requests,
        coalesce(sum(value) FILTER (WHERE measure = 'energy' AND part <> 'shared'), 0) AS energy_facility_kwh,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cl', 'emb') AND part <> 'shared'), 0) AS co2e_location_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cm', 'emb') AND part <> 'shared'), 0) AS co2e_market_kg,
        coalesce(sum(value) FILTER (WHERE measure = 'op_cl' AND part <> 'shared'), 0) AS op_location_kg,
        coalesce(sum(value) FILTER (WHERE measure = 'op_cm' AND part <> 'shared'), 0) AS op_market_kg,
        coalesce(sum(value) FILTER (WHERE measure = 'water' AND part <> 'shared'), 0) AS water_l,
        sum(value) FILTER (WHERE measure = 'emb_water' AND part <> 'shared') AS embodied_water_l,
        sum(value) FILTER (WHERE measure = 'adp' AND part <> 'shared') AS adp_kgsbeq,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cl', 'emb') AND part = 'upfront'), 0) AS upfront_own_co2e_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cl', 'emb') AND part = 'shared'), 0) AS shared_development_co2e_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cl', 'emb') AND part = 'inference'), 0) AS inference_co2e_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cl', 'emb') AND part = 'other'), 0) AS other_stages_co2e_kg,
        coalesce(sum(value) FILTER (WHERE measure = 'emb' AND part <> 'shared'), 0) AS embodied_co2e_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cm', 'emb') AND part IN ('upfront', 'shared')), 0) AS upfront_co2e_market_kg,
        coalesce(sum(value) FILTER (WHERE measure IN ('op_cm', 'emb') AND part = 'inference'), 0) AS inference_co2e_market_kg,
        coalesce(sum(value) FILTER (WHERE measure = 'energy' AND part IN ('upfront', 'shared')), 0) AS upfront_energy_kwh,
        coalesce(sum(value) FILTER (WHERE measure = 'energy' AND part = 'inference'), 0) AS inference_energy_kwh,
        sum(value) FILTER (WHERE measure = 'sci' AND part = 'inference') AS sci_numerator_kg
    FROM all_rows
    GROUP BY row_type, model, family
),
idle AS (
    SELECT
        sum(energy_facility_kwh) AS energy_facility_kwh,
        sum(co2e_location_kg + embodied_co2e_kg) AS co2e_location_kg,
        sum(co2e_market_kg + embodied_co2e_kg) AS co2e_market_kg,
        sum(co2e_location_kg) AS op_location_kg,
        sum(co2e_market_kg) AS op_market_kg,
        sum(water_l) AS water_l,
        sum(embodied_water_l) AS embodied_water_l,
        sum(embodied_adp_kgsbeq) AS adp_kgsbeq,
        sum(embodied_co2e_kg) AS embodied_co2e_kg
    FROM intermediate.model_stage_impacts
    WHERE model IS NULL AND stage = 'unallocated'
),
results_central AS (
    SELECT
        w.*,
        w.upfront_own_co2e_kg + w.shared_development_co2e_kg AS upfront_co2e_kg,
        CASE WHEN w.row_type = 'family' THEN fl.lifetime
             ELSE coalesce(w.expected_lifetime_requests, nullif(w.requests_to_date, 0)) END AS lifetime_requests_used,
        CASE
            WHEN w.row_type = 'family' THEN 'sum of members'
            WHEN w.expected_lifetime_requests IS NOT NULL THEN 'expected'
            WHEN w.requests_to_date > 0 THEN 'to_date'
        END AS lifetime_requests_basis
    FROM wide AS w
    LEFT JOIN family_lifetime AS fl ON w.row_type = 'family' AND fl.family = w.family
),
results AS (
    SELECT r.*, u.* EXCLUDE (model, draws)
    FROM results_central AS r
    LEFT JOIN intermediate.model_uncertainty AS u ON r.row_type = 'model' AND u.model = r.model
)
SELECT
    row_type,
    model,
    family,
    requests_to_date,
    expected_lifetime_requests,
    lifetime_requests_used,
    lifetime_requests_basis,
    energy_facility_kwh,
    co2e_location_kg AS total_co2e_location_kg,
    co2e_market_kg AS total_co2e_market_kg,
    op_location_kg AS operational_co2e_location_kg,
    op_market_kg AS operational_co2e_market_kg,
    water_l AS operational_water_l,
    embodied_water_l,
    adp_kgsbeq,
    upfront_co2e_kg,
    upfront_own_co2e_kg,
    shared_development_co2e_kg,
    inference_co2e_kg,
    other_stages_co2e_kg,
    embodied_co2e_kg,
    CASE WHEN $idle_allocation = 'pro_rata' AND row_type = 'model'
        THEN (SELECT idle_co2e_kg FROM idle_shares AS i WHERE i.model = results.model) END AS unallocated_co2e_kg,
    CASE WHEN requests_to_date > 0 THEN inference_co2e_kg / requests_to_date * 1000 END AS marginal_per_1000_requests_co2e_kg,
    CASE WHEN requests_to_date > 0 AND lifetime_requests_used > 0
        THEN inference_co2e_kg / requests_to_date * 1000 + upfront_co2e_kg / lifetime_requests_used * 1000
    END AS per_1000_requests_co2e_kg,
    CASE WHEN requests_to_date > 0 AND lifetime_requests_used > 0
        THEN inference_co2e_market_kg / requests_to_date * 1000 + upfront_co2e_market_kg / lifetime_requests_used * 1000
    END AS per_1000_requests_co2e_market_kg,
    CASE WHEN requests_to_date > 0 AND lifetime_requests_used > 0
        THEN inference_energy_kwh / requests_to_date * 1000 + upfront_energy_kwh / lifetime_requests_used * 1000
    END AS per_1000_requests_energy_kwh,
    CASE WHEN requests_to_date > 0 AND inference_co2e_kg > 0
        THEN upfront_co2e_kg / (inference_co2e_kg / requests_to_date) END AS break_even_requests,
    CASE WHEN requests_to_date > 0 AND inference_energy_kwh > 0
        THEN upfront_energy_kwh / (inference_energy_kwh / requests_to_date) END AS break_even_energy_requests,
    CASE WHEN requests_to_date > 0 AND inference_co2e_market_kg > 0
        THEN upfront_co2e_market_kg / (inference_co2e_market_kg / requests_to_date) END AS break_even_co2e_market_requests,
    CASE WHEN requests_to_date > 0 THEN sci_numerator_kg / requests_to_date * 1000 END AS sci_gco2e_per_request,
    'SCI v1.1 per request: serving only (inference operational location-based + embodied + pro-rata idle capacity); '
        || 'training and development excluded' AS sci_boundary,
    CASE WHEN row_type = 'family'
        THEN (SELECT sum(o.tco2e) FROM offsets AS o JOIN models AS m USING (model) WHERE m.family = results.family)
        ELSE (SELECT o.tco2e FROM offsets AS o WHERE o.model = results.model)
    END AS offsets_retired_tco2e,
    CASE WHEN row_type = 'model' THEN (SELECT t.tokens_to_date FROM tokens AS t WHERE t.model = results.model)
    END AS tokens_to_date,
    CASE WHEN row_type = 'model' AND requests_to_date > 0 AND lifetime_requests_used > 0 THEN
        (inference_co2e_kg / requests_to_date * 1000 + upfront_co2e_kg / lifetime_requests_used * 1000)
        * requests_to_date / (SELECT t.tokens_to_date FROM tokens AS t WHERE t.model = results.model)
    END AS per_1000_tokens_co2e_kg,
    total_co2e_location_kg_p05,
    total_co2e_location_kg_p50,
    total_co2e_location_kg_p95,
    per_1000_requests_co2e_kg_p05,
    per_1000_requests_co2e_kg_p50,
    per_1000_requests_co2e_kg_p95,
    break_even_requests_p05,
    break_even_requests_p50,
    break_even_requests_p95
FROM results
UNION ALL
SELECT
    'unallocated', NULL, NULL, NULL, NULL, NULL,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 'shared into models by GPU-hours' ELSE 'kept separate' END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE energy_facility_kwh END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE co2e_location_kg END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE co2e_market_kg END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE op_location_kg END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE op_market_kg END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE water_l END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE embodied_water_l END,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE adp_kgsbeq END,
    NULL, NULL, NULL, NULL, NULL,
    CASE WHEN $idle_allocation = 'pro_rata' THEN 0 ELSE embodied_co2e_kg END,
    co2e_location_kg,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM idle
ORDER BY CASE row_type WHEN 'model' THEN 1 WHEN 'family' THEN 2 ELSE 3 END, model
