-- Non-GPU energy per (host, hour). Compute hosts: cpu + dram + other where reported, otherwise
-- node wall energy minus the host's GPU energy (floored at 0, flagged). Storage, network and
-- infra hosts: node energy where reported, otherwise the sum of their components. Hours in
-- [window_start, window_end).
WITH parts AS (
    SELECT
        host,
        hour_start,
        sum(energy_kwh) FILTER (WHERE component IN ('cpu', 'dram', 'other')) AS parts_kwh,
        sum(energy_kwh) FILTER (WHERE component = 'node') AS node_kwh,
        sum(covered_s) FILTER (WHERE component = 'node') AS node_covered_s,
        max(covered_s) FILTER (WHERE component IN ('cpu', 'dram', 'other')) AS parts_covered_s
    FROM (
        -- a fixed input order keeps the float sums identical from run to run
        SELECT * FROM intermediate.telemetry_energy_hourly
        WHERE component <> 'gpu'
            AND hour_start >= CAST($window_start AS TIMESTAMP)
            AND hour_start < CAST($window_end AS TIMESTAMP)
        ORDER BY host, component, hour_start, partition_day
    )
    GROUP BY host, hour_start
),
gpu AS (
    SELECT host, hour_start, sum(energy_gpu_kwh) AS gpu_kwh
    FROM intermediate.gpu_hourly
    WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
    GROUP BY host, hour_start
),
combined AS (
    SELECT
        p.host,
        h.site,
        h.role,
        p.hour_start,
        p.parts_kwh,
        p.node_kwh,
        g.gpu_kwh,
        CASE
            WHEN h.role = 'compute' AND p.parts_kwh IS NOT NULL THEN 'components'
            WHEN h.role = 'compute' THEN 'node_minus_gpu'
            WHEN p.node_kwh IS NOT NULL THEN 'node'
            ELSE 'components'
        END AS method,
        coalesce(
            CASE WHEN h.role = 'compute' AND p.parts_kwh IS NULL THEN p.node_covered_s END,
            CASE WHEN h.role <> 'compute' AND p.node_kwh IS NOT NULL THEN p.node_covered_s END,
            p.parts_covered_s
        ) AS covered_s
    FROM parts AS p
    JOIN staging.hosts AS h USING (host)
    LEFT JOIN gpu AS g USING (host, hour_start)
)
SELECT
    host,
    site,
    role,
    hour_start,
    method,
    CASE
        WHEN method = 'components' AND role = 'compute' THEN parts_kwh
        WHEN method = 'node_minus_gpu' THEN greatest(node_kwh - coalesce(gpu_kwh, 0), 0)
        WHEN method = 'node' THEN node_kwh
        ELSE parts_kwh
    END AS energy_kwh,
    method = 'node_minus_gpu' AND node_kwh < coalesce(gpu_kwh, 0) AS floored_at_zero,
    least(covered_s / 3600.0, 1.0) AS coverage,
    CAST(hour_start AS DATE) AS partition_day
FROM combined
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY hour_start, host
