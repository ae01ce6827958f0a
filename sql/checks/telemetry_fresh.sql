-- Freshness: every day the run covers has telemetry from the fleet, unless the fleet reports none at
-- all (estimate-mode only). A scheduled day without samples fails here instead of passing silently.
WITH wanted AS (
    SELECT CAST(unnest(CAST($days AS VARCHAR[])) AS DATE) AS day
),
have AS (
    SELECT partition_day AS day, count(DISTINCT host) AS hosts
    FROM intermediate.telemetry_energy_hourly
    GROUP BY partition_day
),
fleet AS (
    SELECT count(*) AS rows FROM intermediate.telemetry_energy_hourly
)
SELECT
    (SELECT rows FROM fleet) = 0 OR count(*) FILTER (WHERE have.day IS NULL) = 0 AS passed,
    count(*) AS days_in_run,
    count(*) FILTER (WHERE have.day IS NULL) AS days_without_telemetry,
    string_agg(CAST(wanted.day AS VARCHAR), ', ' ORDER BY wanted.day) FILTER (WHERE have.day IS NULL) AS missing_days,
    (SELECT max(hour_start) FROM intermediate.telemetry_energy_hourly) AS newest_telemetry_hour
FROM wanted LEFT JOIN have USING (day)
