-- stage_impacts is unique on (model, stage, date, site), has no NULL stage or date, and no negative energy.
SELECT
    count(*) = count(DISTINCT (model, stage, date, site))
        AND count(*) FILTER (WHERE stage IS NULL OR date IS NULL) = 0
        AND count(*) FILTER (WHERE energy_it_kwh < 0 OR energy_facility_kwh < 0) = 0 AS passed,
    count(*) AS rows,
    count(DISTINCT (model, stage, date, site)) AS distinct_keys,
    count(*) FILTER (WHERE stage IS NULL OR date IS NULL) AS null_keys,
    count(*) FILTER (WHERE energy_it_kwh < 0 OR energy_facility_kwh < 0) AS negative_energy_rows
FROM marts.stage_impacts
