-- How an interval (t0, t1] between two readings gets its energy (see counter_plausible): 'counter',
-- 'power_after_reset' (the counter went backwards) or 'power' (trapezoid of the two power readings).
CREATE OR REPLACE TEMP MACRO interval_method(c0, c1, t0, t1, max_power_w) AS
    CASE
        WHEN counter_plausible(c0, c1, t0, t1, max_power_w) THEN 'counter'
        WHEN c0 IS NOT NULL AND c1 IS NOT NULL AND c1 < c0 THEN 'power_after_reset'
        ELSE 'power'
    END
