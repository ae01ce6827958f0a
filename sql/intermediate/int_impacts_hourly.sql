-- Ledger rows with facility energy (IT x PUE at that hour), location- and market-based carbon
-- and water. Location: facility kWh x the zone's intensity for the hour (an equi-join on hour
-- buckets). Market (GHG Protocol Scope 2): each contract's MWh is spread evenly over the hours
-- of its validity window; in each site-hour it covers consumption up to that hourly amount at
-- the contract's factor, and the rest is charged at the zone's residual mix. Without a residual
-- mix the rest stays at location-based intensity; the market_basis column labels which applied.
-- Water: on-site = IT kWh x WUE, off-site = facility kWh x EWIF (Li et al. 2023).
WITH ledger AS (
    SELECT
        l.*,
        l.energy_gpu_kwh + l.energy_host_other_kwh + l.energy_shared_kwh + l.energy_unsplit_kwh AS energy_it_kwh
    FROM intermediate.energy_ledger_hourly AS l
),
facility AS (
    SELECT
        l.*,
        s.zone,
        s.pue,
        s.wue_l_per_kwh,
        s.ewif_l_per_kwh,
        l.energy_it_kwh * s.pue AS energy_facility_kwh
    FROM ledger AS l
    LEFT JOIN intermediate.site_hourly AS s USING (site, hour_start)
),
site_hours AS (
    SELECT site, zone, hour_start, sum(energy_facility_kwh) AS site_facility_kwh
    FROM facility
    GROUP BY site, zone, hour_start
),
contract_hours AS (
    SELECT
        sh.site,
        sh.hour_start,
        sum(c.mwh * 1000.0 / (date_diff('second', c.valid_from, c.valid_to) / 3600.0)) AS contract_kwh,
        sum(c.mwh * 1000.0 / (date_diff('second', c.valid_from, c.valid_to) / 3600.0) * c.gco2e_per_kwh)
            / sum(c.mwh * 1000.0 / (date_diff('second', c.valid_from, c.valid_to) / 3600.0)) AS contract_g
    FROM site_hours AS sh
    JOIN staging.energy_contracts AS c
        ON c.site = sh.site AND sh.hour_start >= c.valid_from AND sh.hour_start < c.valid_to
    WHERE c.mwh > 0
    GROUP BY sh.site, sh.hour_start
),
market AS (
    SELECT
        sh.site,
        sh.hour_start,
        g.gco2e_per_kwh AS location_g,
        least(coalesce(ch.contract_kwh, 0), sh.site_facility_kwh) AS covered_kwh,
        ch.contract_g,
        rm.gco2e_per_kwh AS residual_g,
        sh.site_facility_kwh
    FROM site_hours AS sh
    LEFT JOIN intermediate.grid_hourly AS g USING (zone, hour_start)
    LEFT JOIN contract_hours AS ch USING (site, hour_start)
    LEFT JOIN staging.residual_mix AS rm ON rm.zone = sh.zone AND rm.year = year(sh.hour_start)
),
market_rate AS (
    SELECT
        site,
        hour_start,
        CASE
            WHEN site_facility_kwh > 0 THEN
                (covered_kwh * coalesce(contract_g, 0)
                    + (site_facility_kwh - covered_kwh) * coalesce(residual_g, location_g)) / site_facility_kwh
            ELSE coalesce(residual_g, location_g)
        END AS market_g,
        CASE
            WHEN contract_g IS NULL AND residual_g IS NULL THEN 'location (no contracts or residual mix)'
            WHEN contract_g IS NULL THEN 'residual_mix'
            WHEN residual_g IS NULL THEN 'contracts + location remainder'
            ELSE 'contracts + residual_mix'
        END AS market_basis,
        CASE WHEN site_facility_kwh > 0 THEN covered_kwh / site_facility_kwh ELSE 0 END AS contract_share
    FROM market
)
SELECT
    f.site,
    f.hour_start,
    f.job_id,
    f.row_kind,
    f.tier,
    f.gpu_s,
    f.energy_gpu_kwh,
    f.energy_host_other_kwh,
    f.energy_shared_kwh,
    f.energy_unsplit_kwh,
    f.energy_it_kwh,
    f.pue,
    f.energy_facility_kwh,
    f.zone,
    g.gco2e_per_kwh AS location_gco2e_per_kwh,
    g.fallback AS grid_fallback,
    g.basis AS grid_basis,
    g.kind AS grid_kind,
    f.energy_facility_kwh * g.gco2e_per_kwh / 1000.0 AS co2e_location_kg,
    m.market_g AS market_gco2e_per_kwh,
    m.market_basis,
    m.contract_share,
    f.energy_facility_kwh * m.market_g / 1000.0 AS co2e_market_kg,
    f.energy_it_kwh * f.wue_l_per_kwh AS water_onsite_l,
    f.energy_facility_kwh * f.ewif_l_per_kwh AS water_offsite_l
FROM facility AS f
LEFT JOIN intermediate.grid_hourly AS g USING (zone, hour_start)
LEFT JOIN market_rate AS m USING (site, hour_start)
ORDER BY f.site, f.hour_start, f.row_kind, f.job_id
