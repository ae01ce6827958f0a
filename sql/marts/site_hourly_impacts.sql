-- Per (site, UTC hour): IT and facility energy, operational location- and market-based carbon and water, summed
-- over every ledger row of the hour (jobs, unallocated capacity, shared infrastructure), so "which
-- hour dominates" is one ORDER BY. Zone, PUE and grid intensity are the site-hour's own (one value
-- per site-hour in intermediate.impacts_hourly). Job-level rows of jobs with no site form the rows
-- with site NULL. Water stays NULL when no row of the hour has a WUE / EWIF (unknown, not 0).
SELECT
    site,
    hour_start,
    max(zone) AS zone,
    max(pue) AS pue,
    max(location_gco2e_per_kwh) AS location_gco2e_per_kwh,
    sum(gpu_s ORDER BY row_kind, job_id, tier) / 3600.0 AS gpu_hours,
    sum(energy_it_kwh ORDER BY row_kind, job_id, tier) AS energy_it_kwh,
    coalesce(sum(energy_it_kwh ORDER BY job_id, tier) FILTER (WHERE row_kind = 'unallocated'), 0)
        AS energy_unallocated_it_kwh,
    sum(energy_facility_kwh ORDER BY row_kind, job_id, tier) AS energy_facility_kwh,
    sum(co2e_location_kg ORDER BY row_kind, job_id, tier) AS operational_co2e_location_kg,
    sum(co2e_market_kg ORDER BY row_kind, job_id, tier) AS operational_co2e_market_kg,
    sum(water_onsite_l ORDER BY row_kind, job_id, tier) AS water_onsite_l,
    sum(water_offsite_l ORDER BY row_kind, job_id, tier) AS water_offsite_l,
    count(DISTINCT job_id) AS jobs
FROM intermediate.impacts_hourly
GROUP BY site, hour_start
