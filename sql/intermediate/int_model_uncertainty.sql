-- Seeded Monte Carlo of each model's headline numbers (ISO 14044 4.4.3.3, uncertainty analysis):
-- total location-based CO2e, C_FU per 1,000 requests and break-even requests, as p05/p50/p95 over
-- [uncertainty] draws. Pseudo-random numbers are hash(seed, draw, input): no state, so identical
-- inputs and settings give identical bytes. Inputs and their distributions (docs/methodology.md 8):
--   PUE and grid intensity: triangular, central +- pue_rel / grid_rel, one draw shared by all sites
--     and zones (a systematic error, not noise that averages out);
--   energy by data tier: triangular, +- measured_sample_rel / measured_job_rel / estimated_rel,
--     weighted by the tier's share of the model's operational carbon;
--   embodied factors: triangular (low, central, high) from data/factors where the value came from
--     a default with a range, else the central value (no published range);
--   hardware lifetime: triangular +- lifetime_rel; embodied per hour scales 1 / lifetime;
--   expected lifetime requests: triangular +- lifetime_requests_rel (only when expected, not to date).
-- Model rows only; the central values are the marts.model_lifecycle columns.
WITH parts AS (
    SELECT
        model,
        coalesce(sum(value) FILTER (WHERE measure = 'op_cl' AND part <> 'shared'), 0) AS own_op,
        coalesce(sum(value) FILTER (WHERE measure = 'emb' AND part <> 'shared'), 0) AS own_emb,
        coalesce(sum(value) FILTER (WHERE measure = 'op_cl' AND part IN ('upfront', 'shared')), 0) AS up_op,
        coalesce(sum(value) FILTER (WHERE measure = 'emb' AND part IN ('upfront', 'shared')), 0) AS up_emb,
        coalesce(sum(value) FILTER (WHERE measure = 'op_cl' AND part = 'inference'), 0) AS inf_op,
        coalesce(sum(value) FILTER (WHERE measure = 'emb' AND part = 'inference'), 0) AS inf_emb
    FROM intermediate.model_parts
    GROUP BY model
),
tiers AS (
    SELECT
        j.model,
        coalesce(sum(i.co2e_location_kg) FILTER (WHERE i.tier = 'measured_sample'), 0)
            / nullif(sum(i.co2e_location_kg), 0) AS s_sample,
        coalesce(sum(i.co2e_location_kg) FILTER (WHERE i.tier = 'measured_job'), 0)
            / nullif(sum(i.co2e_location_kg), 0) AS s_job,
        coalesce(sum(i.co2e_location_kg) FILTER (WHERE i.tier = 'estimated'), 0)
            / nullif(sum(i.co2e_location_kg), 0) AS s_est
    FROM intermediate.impacts_hourly AS i
    JOIN staging.jobs AS j USING (job_id)
    WHERE i.row_kind = 'job'
    GROUP BY j.model
),
emb_range AS (
    SELECT
        j.model,
        sum(e.co2e_kg * coalesce(a.total_co2e_low_kg / nullif(a.total_co2e_kg, 0), 1)) / nullif(sum(e.co2e_kg), 0) AS r_low,
        sum(e.co2e_kg * coalesce(a.total_co2e_high_kg / nullif(a.total_co2e_kg, 0), 1)) / nullif(sum(e.co2e_kg), 0) AS r_high
    FROM intermediate.embodied_daily AS e
    JOIN staging.jobs AS j USING (job_id)
    LEFT JOIN intermediate.asset_embodied AS a USING (asset_id)
    WHERE e.row_kind = 'job' AND e.co2e_kg IS NOT NULL
    GROUP BY j.model
),
models AS (
    SELECT
        p.*,
        CAST(coalesce(r.requests, 0) AS DOUBLE) AS requests,
        md.expected_lifetime_requests,
        coalesce(md.expected_lifetime_requests, nullif(r.requests, 0)) AS n_central,
        coalesce(t.s_sample, 0) AS s_sample,
        coalesce(t.s_job, 0) AS s_job,
        coalesce(t.s_est, 0) AS s_est,
        least(coalesce(er.r_low, 1), 1) AS r_low,
        greatest(coalesce(er.r_high, 1), 1) AS r_high
    FROM parts AS p
    LEFT JOIN staging.models AS md USING (model)
    LEFT JOIN (SELECT model, sum(requests) AS requests FROM staging.inference_usage GROUP BY model) AS r USING (model)
    LEFT JOIN tiers AS t USING (model)
    LEFT JOIN emb_range AS er USING (model)
),
uniforms AS (
    -- one uniform in [0, 1) per (draw, input), shared by every model
    SELECT
        draw,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'pue') >> 11 AS DOUBLE) / 9007199254740992.0 AS pue_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'grid') >> 11 AS DOUBLE) / 9007199254740992.0 AS grid_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'sample') >> 11 AS DOUBLE) / 9007199254740992.0 AS sample_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'job') >> 11 AS DOUBLE) / 9007199254740992.0 AS job_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'est') >> 11 AS DOUBLE) / 9007199254740992.0 AS est_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'emb') >> 11 AS DOUBLE) / 9007199254740992.0 AS emb_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'life') >> 11 AS DOUBLE) / 9007199254740992.0 AS life_u,
        CAST(hash(CAST($u_seed AS BIGINT), draw, 'n') >> 11 AS DOUBLE) / 9007199254740992.0 AS n_u
    FROM range(1, CAST($u_draws AS BIGINT) + 1) AS d(draw)
),
draws AS (
    -- symmetric triangular on [-1, 1] by the inverse CDF; emb keeps its uniform for the asymmetric case
    SELECT
        draw,
        emb_u,
        CASE WHEN pue_u < 0.5 THEN sqrt(2 * pue_u) - 1 ELSE 1 - sqrt(2 * (1 - pue_u)) END AS pue_t,
        CASE WHEN grid_u < 0.5 THEN sqrt(2 * grid_u) - 1 ELSE 1 - sqrt(2 * (1 - grid_u)) END AS grid_t,
        CASE WHEN sample_u < 0.5 THEN sqrt(2 * sample_u) - 1 ELSE 1 - sqrt(2 * (1 - sample_u)) END AS sample_t,
        CASE WHEN job_u < 0.5 THEN sqrt(2 * job_u) - 1 ELSE 1 - sqrt(2 * (1 - job_u)) END AS job_t,
        CASE WHEN est_u < 0.5 THEN sqrt(2 * est_u) - 1 ELSE 1 - sqrt(2 * (1 - est_u)) END AS est_t,
        CASE WHEN life_u < 0.5 THEN sqrt(2 * life_u) - 1 ELSE 1 - sqrt(2 * (1 - life_u)) END AS life_t,
        CASE WHEN n_u < 0.5 THEN sqrt(2 * n_u) - 1 ELSE 1 - sqrt(2 * (1 - n_u)) END AS n_t
    FROM uniforms
),
multipliers AS (
    SELECT
        m.model,
        d.draw,
        m.requests,
        (1 + $u_pue_rel * d.pue_t) * (1 + $u_grid_rel * d.grid_t)
            * (1 + m.s_sample * $u_measured_sample_rel * d.sample_t + m.s_job * $u_measured_job_rel * d.job_t
                 + m.s_est * $u_estimated_rel * d.est_t) AS k_op,
        CASE
            WHEN m.r_high = m.r_low THEN 1.0
            WHEN d.emb_u < (1 - m.r_low) / (m.r_high - m.r_low)
                THEN m.r_low + sqrt(d.emb_u * (m.r_high - m.r_low) * (1 - m.r_low))
            ELSE m.r_high - sqrt((1 - d.emb_u) * (m.r_high - m.r_low) * (m.r_high - 1))
        END / (1 + $u_lifetime_rel * d.life_t) AS k_emb,
        CASE WHEN m.expected_lifetime_requests IS NOT NULL
            THEN m.n_central * (1 + $u_lifetime_requests_rel * d.n_t) ELSE m.n_central END AS n,
        m.own_op, m.own_emb, m.up_op, m.up_emb, m.inf_op, m.inf_emb
    FROM models AS m
    CROSS JOIN draws AS d
),
outcomes AS (
    SELECT
        model,
        draw,
        k_op * own_op + k_emb * own_emb AS total_kg,
        CASE WHEN requests > 0 AND n > 0
            THEN (k_op * inf_op + k_emb * inf_emb) / requests * 1000 + (k_op * up_op + k_emb * up_emb) / n * 1000
        END AS per_1000_kg,
        CASE WHEN requests > 0 AND k_op * inf_op + k_emb * inf_emb > 0
            THEN (k_op * up_op + k_emb * up_emb) / ((k_op * inf_op + k_emb * inf_emb) / requests)
        END AS break_even
    FROM multipliers
)
SELECT
    model,
    count(*) AS draws,
    quantile_cont(total_kg, 0.05) AS total_co2e_location_kg_p05,
    quantile_cont(total_kg, 0.50) AS total_co2e_location_kg_p50,
    quantile_cont(total_kg, 0.95) AS total_co2e_location_kg_p95,
    quantile_cont(per_1000_kg, 0.05) AS per_1000_requests_co2e_kg_p05,
    quantile_cont(per_1000_kg, 0.50) AS per_1000_requests_co2e_kg_p50,
    quantile_cont(per_1000_kg, 0.95) AS per_1000_requests_co2e_kg_p95,
    quantile_cont(break_even, 0.05) AS break_even_requests_p05,
    quantile_cont(break_even, 0.50) AS break_even_requests_p50,
    quantile_cont(break_even, 0.95) AS break_even_requests_p95
FROM outcomes
GROUP BY model
ORDER BY model
