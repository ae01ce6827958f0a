-- The hardware records whose embodied impact the selection carries: method, lifetime, total.
SELECT
    a.asset_id,
    a.kind,
    a.model,
    a.embodied_method,
    a.life_hours / $hours_per_year AS life_years,
    a.total_co2e_kg,
    a.embodied_basis,
    sum(e.co2e_kg) AS co2e_kg_in_selection
FROM _explain_embodied AS e
JOIN intermediate.asset_embodied AS a USING (asset_id)
GROUP BY ALL
ORDER BY co2e_kg_in_selection DESC, a.asset_id
