-- Embodied impact of every hardware record, per unit and in total (quantity x per unit), by the
-- first method that applies: (1) the record's own PCF values, else a manufacturer PCF matched on
-- (manufacturer, model) in staging.pcf_factors (cradle-to-gate share); (2) the ACT-style component model
-- from specs: a logic die's E = area_cm2 x (CI_fab x EPA + GPA + MPA) / yield + packaging, plus
-- memory_gb x DRAM g/GB / yield and, for SSDs, capacity_gb x NAND g/GB / yield (HDD g/GB without
-- yield); (3) the default for (kind, model), a server hosting separately recorded GPUs taking the
-- chassis-only 'gpu-host' row, else the kind's '*' row. Unknown criteria stay NULL, never 0.
-- Service life: lifetime_years x hours_per_year, or the actual life if retired earlier.
WITH consts AS (
    SELECT
        max(value) FILTER (WHERE name = 'fab_ci_g_per_kwh') AS fab_ci_g_per_kwh,
        max(value) FILTER (WHERE name = 'packaging_g_per_ic') AS packaging_g,
        max(value) FILTER (WHERE name = 'yield') AS yield,
        max(value) FILTER (WHERE name = 'dram_g_per_gb') AS dram_g_per_gb,
        max(value) FILTER (WHERE name = 'ssd_g_per_gb') AS ssd_g_per_gb,
        max(value) FILTER (WHERE name = 'hdd_g_per_gb') AS hdd_g_per_gb
    FROM staging.factor_component_constants
),
hw AS (
    SELECT
        h.*,
        CASE
            WHEN h.host IS NOT NULL AND h.gpu IS NOT NULL THEN 'gpu'
            WHEN h.host IS NOT NULL THEN 'host'
            ELSE 'site'
        END AS scope,
        h.kind = 'server' AND EXISTS (
            SELECT 1 FROM staging.hardware AS g WHERE g.kind = 'gpu' AND g.host = h.host
        ) AS gpus_recorded_separately
    FROM staging.hardware AS h
),
node AS (
    SELECT hw.asset_id, cm.epa_kwh_per_cm2, cm.gpa_g_per_cm2, cm.mpa_g_per_cm2, cm.process_nm AS node_nm
    FROM hw
    JOIN staging.factor_component_model AS cm ON hw.process_nm IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY hw.asset_id ORDER BY abs(cm.process_nm - hw.process_nm), cm.process_nm) = 1
),
component AS (
    SELECT
        hw.asset_id,
        CASE WHEN hw.die_area_mm2 IS NOT NULL AND n.node_nm IS NOT NULL AND hw.kind IN ('gpu', 'cpu')
            THEN hw.die_area_mm2 / 100.0
                * (c.fab_ci_g_per_kwh * n.epa_kwh_per_cm2 + n.gpa_g_per_cm2 + n.mpa_g_per_cm2) / c.yield
                + c.packaging_g
        END AS die_g,
        CASE WHEN hw.memory_gb IS NOT NULL AND hw.kind IN ('gpu', 'cpu', 'dram', 'server')
            THEN hw.memory_gb * c.dram_g_per_gb / c.yield END AS memory_g,
        CASE
            WHEN hw.capacity_gb IS NOT NULL AND hw.kind = 'ssd' THEN hw.capacity_gb * c.ssd_g_per_gb / c.yield
            WHEN hw.capacity_gb IS NOT NULL AND hw.kind = 'hdd' THEN hw.capacity_gb * c.hdd_g_per_gb
        END AS storage_g,
        n.node_nm
    FROM hw
    CROSS JOIN consts AS c
    LEFT JOIN node AS n USING (asset_id)
),
defaults AS (
    SELECT hw.asset_id, d.*
    FROM hw
    JOIN staging.factor_embodied_defaults AS d
        ON d.kind = hw.kind
        AND (
            lower(d.model) = lower(hw.model)
            OR (d.model = 'gpu-host' AND hw.gpus_recorded_separately)
            OR d.model = '*'
        )
    QUALIFY row_number() OVER (
        PARTITION BY hw.asset_id
        ORDER BY lower(d.model) = lower(hw.model) DESC, d.model = 'gpu-host' DESC, d.model
    ) = 1
),
matched_pcf AS (
    SELECT hw.asset_id, p.gwp_manufacturing_kgco2e, p.source AS pcf_source, p.name AS pcf_name
    FROM hw
    JOIN staging.pcf_factors AS p
        ON lower(p.manufacturer) = lower(hw.manufacturer) AND lower(p.name) = lower(hw.model)
    WHERE p.gwp_manufacturing_kgco2e IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY hw.asset_id ORDER BY p.source_file, p.source_row) = 1
),
resolved AS (
    SELECT
        hw.*,
        mp.gwp_manufacturing_kgco2e AS matched_pcf_kgco2e,
        mp.pcf_source,
        c.node_nm,
        c.die_g,
        c.memory_g,
        c.storage_g,
        CASE
            WHEN hw.embodied_kgco2e IS NOT NULL THEN 'pcf'
            WHEN mp.gwp_manufacturing_kgco2e IS NOT NULL THEN 'pcf_database'
            WHEN coalesce(c.die_g, c.memory_g, c.storage_g) IS NOT NULL THEN 'component_model'
            WHEN d.gwp_central_kgco2e IS NOT NULL THEN 'default'
            ELSE 'none'
        END AS embodied_method,
        d.model AS default_model,
        d.gwp_low_kgco2e,
        d.gwp_central_kgco2e,
        d.gwp_high_kgco2e,
        d.water_l AS default_water_l,
        d.adp_kgsbeq AS default_adp_kgsbeq,
        d.source AS default_source
    FROM hw
    LEFT JOIN component AS c USING (asset_id)
    LEFT JOIN defaults AS d USING (asset_id)
    LEFT JOIN matched_pcf AS mp USING (asset_id)
),
valued AS (
    SELECT
        *,
        CASE embodied_method
            WHEN 'pcf' THEN embodied_kgco2e
            WHEN 'pcf_database' THEN matched_pcf_kgco2e
            WHEN 'component_model' THEN (coalesce(die_g, 0) + coalesce(memory_g, 0) + coalesce(storage_g, 0)) / 1000.0
            WHEN 'default' THEN gwp_central_kgco2e
        END AS unit_co2e_kg,
        CASE embodied_method WHEN 'default' THEN gwp_low_kgco2e END AS unit_co2e_low_kg,
        CASE embodied_method WHEN 'default' THEN gwp_high_kgco2e END AS unit_co2e_high_kg,
        CASE embodied_method
            WHEN 'pcf' THEN embodied_water_l
            WHEN 'default' THEN default_water_l
        END AS unit_water_l,
        CASE embodied_method
            WHEN 'pcf' THEN embodied_adp_kgsbeq
            WHEN 'default' THEN default_adp_kgsbeq
        END AS unit_adp_kgsbeq,
        CASE embodied_method
            WHEN 'pcf' THEN embodied_source
            WHEN 'pcf_database' THEN 'manufacturer PCF (staging.pcf_factors): ' || coalesce(pcf_source, '')
            WHEN 'component_model' THEN 'ACT component model (data/factors/component_model.csv, component_constants.csv), node '
                || coalesce(CAST(node_nm AS VARCHAR), '-') || ' nm'
            WHEN 'default' THEN 'data/factors/embodied_defaults.csv (' || kind || ', ' || default_model || '): ' || default_source
        END AS embodied_basis,
        CASE
            WHEN retired IS NOT NULL
                AND date_diff('second', CAST(in_service AS TIMESTAMP), CAST(retired AS TIMESTAMP)) / 3600.0
                    < lifetime_years * $hours_per_year
                THEN date_diff('second', CAST(in_service AS TIMESTAMP), CAST(retired AS TIMESTAMP)) / 3600.0
            ELSE lifetime_years * $hours_per_year
        END AS life_hours
    FROM resolved
)
SELECT
    asset_id,
    kind,
    model,
    quantity,
    site,
    host,
    gpu,
    scope,
    in_service,
    retired,
    lifetime_years,
    life_hours,
    CAST(in_service AS TIMESTAMP) + to_seconds(CAST(round(life_hours * 3600) AS BIGINT)) AS life_end,
    retired IS NOT NULL AND life_hours < lifetime_years * $hours_per_year AS retired_early,
    embodied_method,
    embodied_basis,
    unit_co2e_kg,
    unit_water_l,
    unit_adp_kgsbeq,
    quantity * unit_co2e_kg AS total_co2e_kg,
    quantity * unit_co2e_low_kg AS total_co2e_low_kg,
    quantity * unit_co2e_high_kg AS total_co2e_high_kg,
    quantity * unit_water_l AS total_water_l,
    quantity * unit_adp_kgsbeq AS total_adp_kgsbeq,
    source_file,
    source_row
FROM valued
ORDER BY asset_id
