-- The explained number by job (NULL job = unallocated capacity or shared infrastructure).
SELECT job_id, row_kind, tier, value
FROM (
    SELECT
        job_id,
        row_kind,
        string_agg(DISTINCT tier, ',' ORDER BY tier) AS tier,
        sum(CASE $criterion
            WHEN 'energy_it_kwh' THEN energy_it_kwh
            WHEN 'energy_facility_kwh' THEN energy_facility_kwh
            WHEN 'operational_co2e_location_kg' THEN co2e_location_kg
            WHEN 'operational_co2e_market_kg' THEN co2e_market_kg
            WHEN 'water_onsite_l' THEN water_onsite_l
            WHEN 'water_offsite_l' THEN water_offsite_l
        END) AS value
    FROM _explain_rows
    WHERE $criterion <> 'embodied_co2e_kg'
    GROUP BY job_id, row_kind
    UNION ALL
    SELECT job_id, row_kind, NULL, sum(co2e_kg)
    FROM _explain_embodied
    WHERE $criterion = 'embodied_co2e_kg'
    GROUP BY job_id, row_kind
)
ORDER BY value DESC NULLS LAST, job_id NULLS LAST
