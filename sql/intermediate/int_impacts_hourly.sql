-- Ledger rows with facility energy (IT x PUE at that hour), location- and market-based carbon
-- and water. Location: facility kWh x the zone's intensity for the hour (an equi-join on hour
-- buckets). Market (GHG Protocol Scope 2 Guidance, quality criteria 2 and 3): a contract's MWh is
-- allotted to each matching period ([market] matching: hour, calendar month or calendar year, UTC)
-- in proportion to the period's overlap with the contract's validity window, so a contract valid
-- [00:30, 01:30) gives half to each hour it touches. In each site and period it covers consumption
-- up to its allotment at the contract's factor; an allotment left unused in a period is lost (no
-- banking across periods). The uncovered share of every hour is charged at the zone's residual mix
-- for that year; without a residual mix at location-based intensity; the market_basis column labels
-- which applied. Offsets are not contractual instruments and never enter here.
-- Water: on-site = IT kWh x WUE, off-site = facility kWh x EWIF (Li et al. 2023).
-- Not partitioned by day, unlike the hourly tables it reads: with monthly or annual matching a
-- contract's allotment covers a whole month's or year's consumption, so a new day changes the
-- market carbon of every earlier day in its period. Rebuilt whole from the (already built) hourly
-- tables, every hour's market share stays that of its whole period.
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
    SELECT
        site,
        zone,
        hour_start,
        CASE $market_matching
            WHEN 'hourly' THEN hour_start
            WHEN 'monthly' THEN date_trunc('month', hour_start)
            ELSE date_trunc('year', hour_start)
        END AS period_start,
        sum(energy_facility_kwh) AS site_facility_kwh
    FROM facility
    GROUP BY site, zone, hour_start
),
site_periods AS (
    SELECT
        site,
        period_start,
        CASE $market_matching
            WHEN 'hourly' THEN period_start + INTERVAL 1 HOUR
            WHEN 'monthly' THEN period_start + INTERVAL 1 MONTH
            ELSE period_start + INTERVAL 1 YEAR
        END AS period_end,
        sum(site_facility_kwh) AS period_facility_kwh
    FROM site_hours
    GROUP BY site, period_start
),
allotments AS (
    -- kWh of each contract falling in each period: MWh x overlap / validity window.
    SELECT
        sp.site,
        sp.period_start,
        c.gco2e_per_kwh,
        c.mwh * 1000.0
            * date_diff('microsecond', greatest(c.valid_from, sp.period_start), least(c.valid_to, sp.period_end))
            / date_diff('microsecond', c.valid_from, c.valid_to) AS allotted_kwh
    FROM site_periods AS sp
    JOIN staging.energy_contracts AS c
        ON c.site = sp.site AND c.valid_from < sp.period_end AND c.valid_to > sp.period_start
    WHERE c.mwh > 0
),
contract_periods AS (
    SELECT
        site,
        period_start,
        sum(allotted_kwh) AS contract_kwh,
        sum(allotted_kwh * gco2e_per_kwh) / sum(allotted_kwh) AS contract_g
    FROM allotments
    GROUP BY site, period_start
),
period_cover AS (
    SELECT
        sp.site,
        sp.period_start,
        cp.contract_g,
        CASE
            WHEN sp.period_facility_kwh > 0
                THEN least(coalesce(cp.contract_kwh, 0), sp.period_facility_kwh) / sp.period_facility_kwh
            ELSE 0
        END AS covered_share
    FROM site_periods AS sp
    LEFT JOIN contract_periods AS cp USING (site, period_start)
),
market AS (
    SELECT
        sh.site,
        sh.hour_start,
        g.gco2e_per_kwh AS location_g,
        pc.covered_share,
        pc.contract_g,
        rm.gco2e_per_kwh AS residual_g,
        sh.site_facility_kwh
    FROM site_hours AS sh
    LEFT JOIN intermediate.grid_hourly AS g USING (zone, hour_start)
    LEFT JOIN period_cover AS pc USING (site, period_start)
    LEFT JOIN staging.residual_mix AS rm ON rm.zone = sh.zone AND rm.year = year(sh.hour_start)
),
market_rate AS (
    -- Within a period every hour carries the period's covered share, so the contract's kWh land
    -- where the consumption is.
    SELECT
        site,
        hour_start,
        covered_share * coalesce(contract_g, 0)
            + (1 - covered_share) * coalesce(residual_g, location_g) AS market_g,
        CASE
            WHEN contract_g IS NULL AND residual_g IS NULL THEN 'location (no contracts or residual mix)'
            WHEN contract_g IS NULL THEN 'residual_mix'
            WHEN residual_g IS NULL THEN 'contracts + location remainder'
            ELSE 'contracts + residual_mix'
        END AS market_basis,
        covered_share AS contract_share
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
