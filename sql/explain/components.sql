-- The explained number by component. Facility-based criteria (facility energy, carbon, off-site
-- water) split each row's value into its IT components (GPU, host, shared, job-level) and the
-- facility overhead (PUE - 1) / PUE; IT-based criteria (IT energy, on-site water) have no overhead;
-- embodied carbon splits by hardware kind.
WITH rows AS (
    SELECT
        *,
        CASE $criterion
            WHEN 'energy_it_kwh' THEN energy_it_kwh
            WHEN 'energy_facility_kwh' THEN energy_facility_kwh
            WHEN 'operational_co2e_location_kg' THEN co2e_location_kg
            WHEN 'operational_co2e_market_kg' THEN co2e_market_kg
            WHEN 'water_onsite_l' THEN water_onsite_l
            WHEN 'water_offsite_l' THEN water_offsite_l
        END AS v,
        $criterion IN ('energy_it_kwh', 'water_onsite_l') AS it_based
    FROM _explain_rows
),
split AS (
    SELECT
        component,
        sum(CASE WHEN energy_it_kwh > 0 THEN
            CASE WHEN it_based THEN v * part / energy_it_kwh ELSE v * part / (energy_it_kwh * pue) END
        ELSE 0 END) AS value
    FROM rows,
    (VALUES ('gpu'), ('host'), ('shared_infrastructure'), ('job_level_unsplit')) AS c(component)
    CROSS JOIN LATERAL (
        SELECT CASE c.component
            WHEN 'gpu' THEN energy_gpu_kwh
            WHEN 'host' THEN energy_host_other_kwh
            WHEN 'shared_infrastructure' THEN energy_shared_kwh
            ELSE energy_unsplit_kwh
        END AS part
    )
    WHERE $criterion <> 'embodied_co2e_kg'
    GROUP BY component
    UNION ALL
    SELECT 'facility_overhead', sum(CASE WHEN NOT it_based AND energy_it_kwh > 0 THEN v * (pue - 1) / pue ELSE 0 END)
    FROM rows
    WHERE $criterion <> 'embodied_co2e_kg'
    UNION ALL
    SELECT 'embodied: ' || asset_kind, sum(co2e_kg)
    FROM _explain_embodied
    WHERE $criterion = 'embodied_co2e_kg'
    GROUP BY asset_kind
)
-- an embodied component whose every value is unknown (jobs without a device count) stays NULL
SELECT component, CASE WHEN component LIKE 'embodied: %' THEN value ELSE coalesce(value, 0) END AS value
FROM split
WHERE NOT ($criterion = 'embodied_co2e_kg' AND component = 'facility_overhead')  -- no overhead in embodied
ORDER BY list_position(['gpu', 'host', 'shared_infrastructure', 'job_level_unsplit', 'facility_overhead'], component)
    NULLS LAST, component
