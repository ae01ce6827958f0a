-- The number as the marts report it: the sum of the criterion over the selected stage_impacts
-- rows, or the job_impacts row of one job.
SELECT
    CASE
        WHEN CAST($job AS VARCHAR) IS NOT NULL THEN (
            SELECT CASE $criterion
                WHEN 'energy_it_kwh' THEN energy_it_kwh
                WHEN 'energy_facility_kwh' THEN energy_facility_kwh
                WHEN 'operational_co2e_location_kg' THEN operational_co2e_location_kg
                WHEN 'operational_co2e_market_kg' THEN operational_co2e_market_kg
                WHEN 'water_onsite_l' THEN water_onsite_l
                WHEN 'water_offsite_l' THEN water_offsite_l
                WHEN 'embodied_co2e_kg' THEN embodied_co2e_kg
            END
            FROM marts.job_impacts WHERE job_id = $job
        )
        ELSE (
            SELECT sum(CASE $criterion
                WHEN 'energy_it_kwh' THEN energy_it_kwh
                WHEN 'energy_facility_kwh' THEN energy_facility_kwh
                WHEN 'operational_co2e_location_kg' THEN operational_co2e_location_kg
                WHEN 'operational_co2e_market_kg' THEN operational_co2e_market_kg
                WHEN 'water_onsite_l' THEN water_onsite_l
                WHEN 'water_offsite_l' THEN water_offsite_l
                WHEN 'embodied_co2e_kg' THEN embodied_co2e_kg
            END)
            FROM marts.stage_impacts
            WHERE model IS NOT DISTINCT FROM CAST($model AS VARCHAR)
                AND (CAST($stage AS VARCHAR) IS NULL OR stage = $stage)
                AND (CAST($date AS DATE) IS NULL OR date = CAST($date AS DATE))
                AND (CAST($site AS VARCHAR) IS NULL OR site IS NULL OR site = $site)
        )
    END AS value
