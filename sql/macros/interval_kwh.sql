-- The energy of an interval (t0, t1] in kWh: the counter difference where counter_plausible holds,
-- otherwise the trapezoid (p0 + p1) / 2 * (t1 - t0).
CREATE OR REPLACE TEMP MACRO interval_kwh(c0, c1, p0, p1, t0, t1, max_power_w) AS
    CASE
        WHEN counter_plausible(c0, c1, t0, t1, max_power_w) THEN c1 - c0
        ELSE (p0 + p1) / 2 * (date_diff('microsecond', t0, t1) / 1e6) / 3.6e6
    END
