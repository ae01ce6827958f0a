-- Totals per site over the days in marts.fleet_daily.
SELECT
    site,
    min(date) AS first_date,
    max(date) AS last_date,
    count(DISTINCT date) AS days,
    sum(energy_facility_kwh) AS energy_facility_kwh,
    sum(measured_it_kwh) AS measured_it_kwh,
    sum(operational_co2e_location_kg) AS operational_co2e_location_kg,
    sum(operational_co2e_market_kg) AS operational_co2e_market_kg
FROM marts.fleet_daily
GROUP BY site
ORDER BY site NULLS LAST
