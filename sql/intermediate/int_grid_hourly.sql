-- Carbon intensity for every (zone, hour) the ledger needs, with fallbacks counted and labelled:
-- 'reported' (a value for the hour), 'constant' (a row with valid_to: one published value for the
-- zone over [ts, valid_to), given as such and not counted as a fallback; the latest such row
-- covering the hour wins, an hourly value beats it), 'interpolated' (linear between the nearest reported hours,
-- both within interpolate_max_h), 'nearest' (only one side within the bound), 'annual_mean'
-- (the zone's mean over that calendar year or, when the data lack that year, over the nearest
-- year they have; fallback_year says which), else 'missing' (a blocking check fails the run).
-- Basis (direct/lifecycle) and kind (average/marginal) follow [grid]; a zone lacking the asked
-- combination uses what it has, and the columns say which.
-- Hours in [window_start, window_end) of intermediate.site_hourly; staging.grid_intensity is read
-- whole, so a fallback for the window's hours uses reported hours outside it as a full run does.
WITH combos AS (
    SELECT DISTINCT zone, basis, kind FROM staging.grid_intensity
),
chosen AS (
    SELECT zone, basis, kind
    FROM combos
    QUALIFY row_number() OVER (
        PARTITION BY zone ORDER BY (basis = $grid_basis) DESC, (kind = $grid_kind) DESC, basis, kind
    ) = 1
),
reported AS (
    SELECT
        g.zone,
        date_trunc('hour', g.ts) AS hour_start,
        avg(g.gco2e_per_kwh) AS gco2e_per_kwh,
        bool_or(g.estimated) AS provider_estimated,
        min(g.source) AS source
    FROM staging.grid_intensity AS g
    JOIN chosen AS c USING (zone, basis, kind)
    WHERE g.valid_to IS NULL
    GROUP BY g.zone, date_trunc('hour', g.ts)
),
constants AS (
    SELECT g.zone, date_trunc('hour', g.ts) AS valid_from, g.valid_to, g.gco2e_per_kwh, g.source
    FROM staging.grid_intensity AS g
    JOIN chosen AS c USING (zone, basis, kind)
    WHERE g.valid_to IS NOT NULL
),
needed AS (
    SELECT DISTINCT zone, hour_start FROM intermediate.site_hourly
    WHERE zone IS NOT NULL
        AND hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
),
constant_hours AS (
    SELECT n.zone, n.hour_start, k.gco2e_per_kwh AS constant_value, k.source AS constant_source
    FROM needed AS n
    JOIN constants AS k ON k.zone = n.zone AND n.hour_start >= k.valid_from AND n.hour_start < k.valid_to
    QUALIFY row_number() OVER (PARTITION BY n.zone, n.hour_start ORDER BY k.valid_from DESC, k.valid_to) = 1
),
spine AS (
    SELECT zone, hour_start FROM needed
    UNION
    SELECT zone, hour_start FROM reported
),
neighbours AS (
    SELECT
        s.zone,
        s.hour_start,
        r.gco2e_per_kwh,
        r.provider_estimated,
        r.source,
        last_value(CASE WHEN r.gco2e_per_kwh IS NOT NULL THEN s.hour_start END IGNORE NULLS)
            OVER before AS prev_hour,
        last_value(r.gco2e_per_kwh IGNORE NULLS) OVER before AS prev_value,
        first_value(CASE WHEN r.gco2e_per_kwh IS NOT NULL THEN s.hour_start END IGNORE NULLS)
            OVER after AS next_hour,
        first_value(r.gco2e_per_kwh IGNORE NULLS) OVER after AS next_value
    FROM spine AS s
    LEFT JOIN reported AS r USING (zone, hour_start)
    WINDOW
        before AS (PARTITION BY s.zone ORDER BY s.hour_start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
        after AS (PARTITION BY s.zone ORDER BY s.hour_start ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
),
annual AS (
    SELECT zone, year(hour_start) AS year, avg(gco2e_per_kwh) AS annual_mean
    FROM reported
    GROUP BY zone, year(hour_start)
),
resolved AS (
    SELECT
        n.*,
        a.annual_mean,
        a.year AS annual_year,
        date_diff('hour', n.prev_hour, n.hour_start) <= $grid_interpolate_max_h AS prev_ok,
        date_diff('hour', n.hour_start, n.next_hour) <= $grid_interpolate_max_h AS next_ok
    FROM neighbours AS n
    LEFT JOIN annual AS a ON a.zone = n.zone
    QUALIFY row_number() OVER (
        PARTITION BY n.zone, n.hour_start ORDER BY abs(a.year - year(n.hour_start)), a.year DESC
    ) = 1
)
SELECT
    r.zone,
    r.hour_start,
    CASE
        WHEN r.gco2e_per_kwh IS NOT NULL THEN r.gco2e_per_kwh
        WHEN k.constant_value IS NOT NULL THEN k.constant_value
        WHEN r.prev_ok AND r.next_ok THEN
            r.prev_value + (r.next_value - r.prev_value)
                * date_diff('second', r.prev_hour, r.hour_start) / date_diff('second', r.prev_hour, r.next_hour)
        WHEN r.prev_ok AND NOT coalesce(r.next_ok, false) THEN r.prev_value
        WHEN r.next_ok THEN r.next_value
        ELSE r.annual_mean
    END AS gco2e_per_kwh,
    CASE
        WHEN r.gco2e_per_kwh IS NOT NULL THEN 'reported'
        WHEN k.constant_value IS NOT NULL THEN 'constant'
        WHEN r.prev_ok AND r.next_ok THEN 'interpolated'
        WHEN r.prev_ok OR r.next_ok THEN 'nearest'
        WHEN r.annual_mean IS NOT NULL THEN 'annual_mean'
        ELSE 'missing'
    END AS fallback,
    CASE WHEN r.gco2e_per_kwh IS NULL AND k.constant_value IS NULL AND NOT coalesce(r.prev_ok, false)
        AND NOT coalesce(r.next_ok, false) THEN r.annual_year END AS fallback_year,
    c.basis,
    c.kind,
    coalesce(r.provider_estimated, false) AS provider_estimated,
    coalesce(r.source, k.constant_source) AS source,
    CAST(r.hour_start AS DATE) AS partition_day
FROM resolved AS r
JOIN needed AS n USING (zone, hour_start)
LEFT JOIN constant_hours AS k USING (zone, hour_start)
LEFT JOIN chosen AS c USING (zone)
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY r.hour_start, r.zone
