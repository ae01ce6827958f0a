-- Daily energy and carbon per site for the fleet chart and its table.
SELECT
    site,
    date,
    energy_facility_kwh,
    operational_co2e_location_kg,
    operational_co2e_market_kg,
    measured_it_kwh
FROM marts.fleet_daily
WHERE date IS NOT NULL
ORDER BY site NULLS LAST, date
