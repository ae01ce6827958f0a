-- Hourly telemetry energy is in kWh: non-negative, and no device-hour holds more than its physical
-- power bound ([telemetry] max_gpu_power_w for GPUs, max_node_power_w otherwise) for a whole hour;
-- covered seconds lie within the hour. A unit slip (W for kW, J for kWh) fails by orders of magnitude.
WITH checked AS (
    SELECT
        energy_kwh,
        energy_kwh < 0
            OR energy_kwh * 3.6e6 > (CASE WHEN component = 'gpu' THEN $max_gpu_power_w ELSE $max_node_power_w END) * 3600
            OR covered_s < 0 OR covered_s > 3600 AS out_of_range
    FROM intermediate.telemetry_energy_hourly
)
SELECT
    count(*) FILTER (WHERE out_of_range) = 0 AS passed,
    count(*) FILTER (WHERE out_of_range) AS rows_out_of_range,
    max(energy_kwh) AS max_energy_kwh
FROM checked
