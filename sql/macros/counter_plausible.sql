-- The counter rule for one interval (t0, t1] of one GPU, written once for every statement that
-- integrates energy (sample pairs, roll-up minutes and the bridges between them): the NVML counter
-- difference is used when both readings exist, the counter did not go backwards (a reset) and the
-- energy it gives is physically plausible, at most max_power_w over the interval. Counters in kWh.
CREATE OR REPLACE TEMP MACRO counter_plausible(c0, c1, t0, t1, max_power_w) AS
    c0 IS NOT NULL AND c1 IS NOT NULL AND c1 >= c0
    AND (c1 - c0) * 3.6e6 <= max_power_w * date_diff('microsecond', t0, t1) / 1e6
