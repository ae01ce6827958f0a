-- One-at-a-time sensitivity of each model's location-based carbon per 1,000 requests and total:
--   pue: operational carbon scaled x0.8 and x1.2 (facility energy is IT x PUE);
--   grid_basis: the other basis (direct <-> lifecycle) where the grid data has it;
--   lifetime_years: hardware lifetimes x0.75 and x1.5 (embodied per hour scales 1 / lifetime);
--   expected_lifetime_requests: x0.1 and x10;
--   embodied_policy: calendar, expected_utilisation and measured.
-- change_pct compares with the baseline (current settings) per-1,000-request figure, or the total
-- for models that serve no requests.
WITH p AS (
    SELECT
        model,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'op_cl') AS up_op,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'op_cl_alt') AS up_alt,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'emb') AS up_emb,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'emb_calendar') AS up_cal,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'emb_expected_utilisation') AS up_exp,
        sum(value) FILTER (WHERE part = 'upfront' AND measure = 'emb_measured') AS up_mea,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'op_cl') AS sh_op,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'op_cl_alt') AS sh_alt,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'emb') AS sh_emb,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'emb_calendar') AS sh_cal,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'emb_expected_utilisation') AS sh_exp,
        sum(value) FILTER (WHERE part = 'shared' AND measure = 'emb_measured') AS sh_mea,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'op_cl') AS inf_op,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'op_cl_alt') AS inf_alt,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'emb') AS inf_emb,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'emb_calendar') AS inf_cal,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'emb_expected_utilisation') AS inf_exp,
        sum(value) FILTER (WHERE part = 'inference' AND measure = 'emb_measured') AS inf_mea,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'op_cl') AS oth_op,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'op_cl_alt') AS oth_alt,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'emb') AS oth_emb,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'emb_calendar') AS oth_cal,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'emb_expected_utilisation') AS oth_exp,
        sum(value) FILTER (WHERE part = 'other' AND measure = 'emb_measured') AS oth_mea
    FROM intermediate.model_parts
    GROUP BY model
),
lc AS (
    SELECT model, requests_to_date, lifetime_requests_used
    FROM marts.model_lifecycle
    WHERE row_type = 'model'
),
alt_name AS (
    SELECT string_agg(DISTINCT alt_basis, ',' ORDER BY alt_basis) AS name FROM intermediate.model_stage_impacts WHERE alt_basis IS NOT NULL
),
variants AS (
    SELECT * FROM (VALUES
        ('baseline', 'current settings', 1.0),
        ('pue', 'x0.8', 0.8),
        ('pue', 'x1.2', 1.2),
        ('grid_basis', 'other basis', 1.0),
        ('lifetime_years', 'x0.75', 0.75),
        ('lifetime_years', 'x1.5', 1.5),
        ('expected_lifetime_requests', 'x0.1', 0.1),
        ('expected_lifetime_requests', 'x10', 10.0),
        ('embodied_policy', 'calendar', 1.0),
        ('embodied_policy', 'expected_utilisation', 1.0),
        ('embodied_policy', 'measured', 1.0)
    ) AS v(parameter, variant, k)
),
grid AS (
    SELECT
        p.*,
        lc.requests_to_date,
        lc.lifetime_requests_used,
        v.parameter,
        CASE WHEN v.parameter = 'grid_basis' THEN coalesce((SELECT name FROM alt_name), 'none') ELSE v.variant END AS variant,
        CASE WHEN v.parameter = 'pue' THEN v.k ELSE 1.0 END AS op_k,
        v.parameter = 'grid_basis' AS use_alt,
        CASE WHEN v.parameter = 'lifetime_years' THEN 1.0 / v.k ELSE 1.0 END AS emb_k,
        CASE WHEN v.parameter = 'expected_lifetime_requests' THEN v.k ELSE 1.0 END AS n_k,
        CASE WHEN v.parameter = 'embodied_policy' THEN v.variant END AS policy
    FROM p
    JOIN lc USING (model)
    CROSS JOIN variants AS v
    WHERE v.parameter <> 'grid_basis' OR (SELECT name FROM alt_name) IS NOT NULL
),
parts AS (
    SELECT
        model, parameter, variant, requests_to_date, lifetime_requests_used * n_k AS lifetime_n,
        op_k * coalesce(CASE WHEN use_alt THEN up_alt ELSE up_op END, 0)
            + emb_k * coalesce(CASE policy WHEN 'calendar' THEN up_cal WHEN 'expected_utilisation' THEN up_exp
                                           WHEN 'measured' THEN up_mea ELSE up_emb END, 0) AS up,
        op_k * coalesce(CASE WHEN use_alt THEN sh_alt ELSE sh_op END, 0)
            + emb_k * coalesce(CASE policy WHEN 'calendar' THEN sh_cal WHEN 'expected_utilisation' THEN sh_exp
                                           WHEN 'measured' THEN sh_mea ELSE sh_emb END, 0) AS sh,
        op_k * coalesce(CASE WHEN use_alt THEN inf_alt ELSE inf_op END, 0)
            + emb_k * coalesce(CASE policy WHEN 'calendar' THEN inf_cal WHEN 'expected_utilisation' THEN inf_exp
                                           WHEN 'measured' THEN inf_mea ELSE inf_emb END, 0) AS inf,
        op_k * coalesce(CASE WHEN use_alt THEN oth_alt ELSE oth_op END, 0)
            + emb_k * coalesce(CASE policy WHEN 'calendar' THEN oth_cal WHEN 'expected_utilisation' THEN oth_exp
                                           WHEN 'measured' THEN oth_mea ELSE oth_emb END, 0) AS oth
    FROM grid
),
figures AS (
    SELECT
        model, parameter, variant,
        CASE WHEN requests_to_date > 0 AND lifetime_n > 0
            THEN inf / requests_to_date * 1000 + (up + sh) / lifetime_n * 1000 END AS per_1000_requests_co2e_kg,
        up + inf + oth AS total_co2e_kg
    FROM parts
)
SELECT
    f.model,
    f.parameter,
    f.variant,
    f.per_1000_requests_co2e_kg,
    f.total_co2e_kg,
    100.0 * (coalesce(f.per_1000_requests_co2e_kg, f.total_co2e_kg)
             - coalesce(b.per_1000_requests_co2e_kg, b.total_co2e_kg))
        / nullif(coalesce(b.per_1000_requests_co2e_kg, b.total_co2e_kg), 0) AS change_pct
FROM figures AS f
JOIN figures AS b ON b.model = f.model AND b.parameter = 'baseline'
ORDER BY f.model,
    list_position(['baseline', 'pue', 'grid_basis', 'lifetime_years', 'expected_lifetime_requests', 'embodied_policy'],
                  f.parameter),
    f.variant
