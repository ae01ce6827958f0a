-- Staged GPU power is in W within the physical bound and the counter in kWh is non-negative.
SELECT
    count(*) FILTER (WHERE power_w < 0 OR power_w > $max_gpu_power_w OR energy_counter_kwh < 0) = 0 AS passed,
    count(*) FILTER (WHERE power_w < 0 OR power_w > $max_gpu_power_w OR energy_counter_kwh < 0) AS rows_out_of_range,
    max(power_w) AS max_power_w
FROM staging.gpu_samples
