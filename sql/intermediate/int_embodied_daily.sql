-- Embodied impact per (asset, UTC day) of the study period (the days the ledger covers), split
-- between the jobs that used the asset and unallocated capacity by [embodied] policy:
--   each day's calendar share is TE x service hours that day / life hours (GSF SCI time share);
--   calendar:             job = TE x asset-hours used / life hours;
--   expected_utilisation: job = TE x asset-hours used / (life hours x expected_utilisation);
--   measured:             the day's calendar share is spread over that day's jobs by hours used.
-- Unallocated = the day's calendar share minus what jobs took (negative under
-- expected_utilisation when use beat the expectation). Asset-hours used: a GPU record counts the
-- allocations on that GPU; a record on a host counts the host's GPU-hours / its GPU count; a
-- site-wide record counts the site's GPU-hours / the site's GPU count. Jobs with no allocations
-- take a per-device default (data/factors/embodied_device_defaults.csv) x devices x hours
-- (under measured, at the calendar rate: such a job has no asset period to share).
WITH period AS (
    SELECT min(CAST(hour_start AS DATE)) AS d0, max(CAST(hour_start AS DATE)) AS d1
    FROM intermediate.energy_ledger_hourly
),
days AS (
    SELECT CAST(unnest(generate_series(d0, d1, INTERVAL 1 DAY)) AS DATE) AS day FROM period WHERE d0 IS NOT NULL
),
assets AS (
    SELECT * FROM intermediate.asset_embodied
    WHERE coalesce(total_co2e_kg, total_water_l, total_adp_kgsbeq) IS NOT NULL
),
asset_days AS (
    SELECT
        a.asset_id, a.site, a.host, a.gpu, a.scope, a.life_hours,
        a.total_co2e_kg, a.total_water_l, a.total_adp_kgsbeq,
        d.day,
        date_diff('second',
            greatest(CAST(d.day AS TIMESTAMP), CAST(a.in_service AS TIMESTAMP)),
            least(CAST(d.day AS TIMESTAMP) + INTERVAL 1 DAY, a.life_end)) / 3600.0 AS service_h
    FROM assets AS a
    JOIN days AS d
        ON CAST(d.day AS TIMESTAMP) + INTERVAL 1 DAY > CAST(a.in_service AS TIMESTAMP)
        AND CAST(d.day AS TIMESTAMP) < a.life_end
),
host_capacity AS (
    SELECT h.host, h.site, coalesce(h.gpu_count, obs.gpus) AS gpus
    FROM staging.hosts AS h
    LEFT JOIN (SELECT host, count(DISTINCT gpu) AS gpus FROM intermediate.allocation_hourly GROUP BY host) AS obs USING (host)
    WHERE h.role = 'compute'
),
site_capacity AS (
    SELECT site, sum(gpus) AS gpus FROM host_capacity GROUP BY site
),
alloc_daily AS (
    SELECT job_id, host, gpu, site, CAST(hour_start AS DATE) AS day, sum(alloc_s) / 3600.0 AS gpu_h
    FROM intermediate.allocation_hourly
    GROUP BY job_id, host, gpu, site, CAST(hour_start AS DATE)
),
use_raw AS (
    SELECT ad.asset_id, ad.day, al.job_id, sum(al.gpu_h) AS use_h
    FROM asset_days AS ad
    JOIN alloc_daily AS al ON ad.scope = 'gpu' AND al.host = ad.host AND al.gpu = ad.gpu AND al.day = ad.day
    GROUP BY ad.asset_id, ad.day, al.job_id
    UNION ALL
    SELECT ad.asset_id, ad.day, al.job_id, sum(al.gpu_h) / max(hc.gpus)
    FROM asset_days AS ad
    JOIN alloc_daily AS al ON ad.scope = 'host' AND al.host = ad.host AND al.day = ad.day
    JOIN host_capacity AS hc ON hc.host = ad.host AND hc.gpus > 0
    GROUP BY ad.asset_id, ad.day, al.job_id
    UNION ALL
    SELECT ad.asset_id, ad.day, al.job_id, sum(al.gpu_h) / max(sc.gpus)
    FROM asset_days AS ad
    JOIN alloc_daily AS al ON ad.scope = 'site' AND al.site = ad.site AND al.day = ad.day
    JOIN site_capacity AS sc ON sc.site = ad.site AND sc.gpus > 0
    GROUP BY ad.asset_id, ad.day, al.job_id
),
use_scaled AS (
    -- More use than service hours (oversubscription) is scaled down to the hours in service.
    SELECT
        u.asset_id, u.day, u.job_id,
        u.use_h * least(1.0, ad.service_h / nullif(sum(u.use_h) OVER (PARTITION BY u.asset_id, u.day), 0)) AS use_h,
        sum(u.use_h) OVER (PARTITION BY u.asset_id, u.day) AS day_use_h
    FROM use_raw AS u
    JOIN asset_days AS ad USING (asset_id, day)
),
job_share AS (
    SELECT
        ad.asset_id, ad.site, ad.day, u.job_id, u.use_h,
        u.use_h / ad.life_hours AS f_calendar,
        u.use_h / (ad.life_hours * $expected_utilisation) AS f_expected,
        (ad.service_h / ad.life_hours) * u.use_h / least(u.day_use_h, ad.service_h) AS f_measured,
        ad.total_co2e_kg, ad.total_water_l, ad.total_adp_kgsbeq
    FROM asset_days AS ad
    JOIN use_scaled AS u USING (asset_id, day)
),
job_rows AS (
    SELECT
        asset_id, site, day, job_id, 'job' AS row_kind, use_h,
        total_co2e_kg * f AS co2e_kg,
        total_water_l * f AS water_l,
        total_adp_kgsbeq * f AS adp_kgsbeq,
        -- every policy's figure, so marts.sensitivity can compare them without another run
        total_co2e_kg * f_calendar AS co2e_calendar_kg,
        total_co2e_kg * f_expected AS co2e_expected_utilisation_kg,
        total_co2e_kg * f_measured AS co2e_measured_kg
    FROM (
        SELECT
            *,
            CASE $embodied_policy
                WHEN 'calendar' THEN f_calendar
                WHEN 'expected_utilisation' THEN f_expected
                WHEN 'measured' THEN f_measured
            END AS f
        FROM job_share
    )
),
unallocated_rows AS (
    -- Sums in job order: the join feeding them can emit a day's jobs in another order when table
    -- statistics differ (a table rebuilt day by day), and floats must add up alike.
    SELECT
        ad.asset_id, ad.site, ad.day, NULL AS job_id, 'unallocated' AS row_kind,
        ad.service_h - coalesce(sum(j.use_h ORDER BY j.job_id), 0) AS use_h,
        ad.total_co2e_kg * ad.service_h / ad.life_hours - coalesce(sum(j.co2e_kg ORDER BY j.job_id), 0) AS co2e_kg,
        ad.total_water_l * ad.service_h / ad.life_hours - coalesce(sum(j.water_l ORDER BY j.job_id), 0) AS water_l,
        ad.total_adp_kgsbeq * ad.service_h / ad.life_hours - coalesce(sum(j.adp_kgsbeq ORDER BY j.job_id), 0) AS adp_kgsbeq,
        ad.total_co2e_kg * ad.service_h / ad.life_hours - coalesce(sum(j.co2e_calendar_kg ORDER BY j.job_id), 0) AS co2e_calendar_kg,
        ad.total_co2e_kg * ad.service_h / ad.life_hours - coalesce(sum(j.co2e_expected_utilisation_kg ORDER BY j.job_id), 0)
            AS co2e_expected_utilisation_kg,
        ad.total_co2e_kg * ad.service_h / ad.life_hours - coalesce(sum(j.co2e_measured_kg ORDER BY j.job_id), 0) AS co2e_measured_kg
    FROM asset_days AS ad
    LEFT JOIN job_rows AS j USING (asset_id, day)
    GROUP BY ad.asset_id, ad.site, ad.day, ad.service_h, ad.life_hours, ad.total_co2e_kg, ad.total_water_l, ad.total_adp_kgsbeq
),
device_jobs AS (
    SELECT
        -- without a device count the devices are unknown, so is their embodied share: NULL, never 0
        l.job_id, l.site, CAST(l.hour_start AS DATE) AS day,
        CASE WHEN min(t.device_count) IS NOT NULL THEN sum(l.gpu_s) / 3600.0 END AS device_h,
        min(f.gwp_kgco2e_per_device) AS gwp_kgco2e_per_device,
        min(f.lifetime_years) AS lifetime_years
    FROM intermediate.job_level_hourly AS l
    JOIN intermediate.job_tiers AS t USING (job_id)
    LEFT JOIN (
        -- the device's own row, else the '*' fallback row
        SELECT t2.job_id, f.gwp_kgco2e_per_device, f.lifetime_years
        FROM intermediate.job_tiers AS t2
        JOIN staging.factor_embodied_device AS f
            ON lower(f.device_model) = lower(t2.device_model) OR f.device_model = '*'
        QUALIFY row_number() OVER (PARTITION BY t2.job_id ORDER BY f.device_model = '*') = 1
    ) AS f ON f.job_id = l.job_id
    WHERE t.alloc_s IS NULL
    GROUP BY l.job_id, l.site, CAST(l.hour_start AS DATE)
)
SELECT * FROM job_rows
UNION ALL BY NAME
SELECT * FROM unallocated_rows
UNION ALL BY NAME
SELECT
    NULL AS asset_id, site, day, job_id, 'job' AS row_kind, device_h AS use_h,
    gwp_kgco2e_per_device * device_h / (lifetime_years * $hours_per_year)
        / CASE WHEN $embodied_policy = 'expected_utilisation' THEN $expected_utilisation ELSE 1.0 END AS co2e_kg,
    NULL AS water_l,
    NULL AS adp_kgsbeq,
    -- no asset and no period: measured falls back to the calendar rate
    gwp_kgco2e_per_device * device_h / (lifetime_years * $hours_per_year) AS co2e_calendar_kg,
    gwp_kgco2e_per_device * device_h / (lifetime_years * $hours_per_year * $expected_utilisation)
        AS co2e_expected_utilisation_kg,
    gwp_kgco2e_per_device * device_h / (lifetime_years * $hours_per_year) AS co2e_measured_kg
FROM device_jobs
ORDER BY day, site, asset_id NULLS LAST, row_kind, job_id
