-- Embodied conservation per asset under every policy: life before the study period + allocated
-- + unallocated + remaining = total, to 1e-9 relative (under calendar this is the SCI time share
-- summing to the total over the asset's whole life).
SELECT
    count(*) FILTER (
        WHERE abs(pre_period_co2e_kg + allocated_co2e_kg + unallocated_co2e_kg + remaining_co2e_kg - total_co2e_kg)
            > 1e-9 * greatest(abs(total_co2e_kg), 1e-6)
    ) = 0 AS passed,
    count(*) AS assets_with_co2e,
    count(*) FILTER (
        WHERE abs(pre_period_co2e_kg + allocated_co2e_kg + unallocated_co2e_kg + remaining_co2e_kg - total_co2e_kg)
            > 1e-9 * greatest(abs(total_co2e_kg), 1e-6)
    ) AS assets_not_conserved,
    sum(total_co2e_kg) AS total_co2e_kg,
    sum(allocated_co2e_kg) AS allocated_co2e_kg,
    sum(unallocated_co2e_kg) AS unallocated_co2e_kg
FROM marts.asset_embodied
WHERE total_co2e_kg IS NOT NULL
