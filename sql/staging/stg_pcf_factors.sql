-- Manufacturer product carbon footprints (e.g. Boavizta's database via `lca import boavizta-pcf`):
-- the cradle-to-gate share is gwp_total x gwp_manufacturing_ratio, or gwp_manufacturing_kgco2e.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(manufacturer AS VARCHAR)), '') AS manufacturer,
        NULLIF(trim(CAST(name AS VARCHAR)), '') AS name,
        NULLIF(trim(CAST(category AS VARCHAR)), '') AS category,
        NULLIF(trim(CAST(subcategory AS VARCHAR)), '') AS subcategory,
        TRY_CAST(gwp_total_kgco2e AS DOUBLE) AS gwp_total_kgco2e,
        TRY_CAST(gwp_manufacturing_ratio AS DOUBLE) AS gwp_manufacturing_ratio,
        TRY_CAST(gwp_manufacturing_kgco2e AS DOUBLE) AS gwp_manufacturing_kgco2e_given,
        TRY_CAST(lifetime_years AS DOUBLE) AS lifetime_years,
        NULLIF(trim(CAST(source AS VARCHAR)), '') AS source,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
checked AS (
    SELECT
        *,
        coalesce(gwp_manufacturing_kgco2e_given, gwp_total_kgco2e * gwp_manufacturing_ratio) AS gwp_manufacturing_kgco2e,
        CASE
            WHEN import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || import_error, 'raw': import_error}
            WHEN manufacturer IS NULL THEN {'col': 'manufacturer', 'reason': 'missing required value', 'raw': NULL}
            WHEN name IS NULL THEN {'col': 'name', 'reason': 'missing required value', 'raw': NULL}
            WHEN gwp_total_kgco2e IS NULL OR gwp_total_kgco2e < 0 OR gwp_total_kgco2e > 1000000
                THEN {'col': 'gwp_total_kgco2e', 'reason': 'not a number in [0, 1000000] kgCO2e', 'raw': CAST(raw.gwp_total_kgco2e AS VARCHAR)}
            WHEN gwp_manufacturing_kgco2e_given < 0 OR gwp_manufacturing_kgco2e_given > 1000000
                THEN {'col': 'gwp_manufacturing_kgco2e', 'reason': 'not a number in [0, 1000000] kgCO2e', 'raw': CAST(raw.gwp_manufacturing_kgco2e AS VARCHAR)}
            WHEN lifetime_years <= 0 OR lifetime_years > 100
                THEN {'col': 'lifetime_years', 'reason': 'not a number of years in (0, 100]', 'raw': CAST(raw.lifetime_years AS VARCHAR)}
            WHEN gwp_manufacturing_ratio < 0 OR gwp_manufacturing_ratio > 1
                THEN {'col': 'gwp_manufacturing_ratio', 'reason': 'ratio outside 0-1', 'raw': CAST(raw.gwp_manufacturing_ratio AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, lower(manufacturer), lower(name) ORDER BY source_file, source_row) > 1
                THEN {'col': 'name', 'reason': 'duplicate key (manufacturer, name)', 'raw': name}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    manufacturer,
    name,
    category,
    subcategory,
    gwp_total_kgco2e,
    gwp_manufacturing_ratio,
    gwp_manufacturing_kgco2e,
    lifetime_years,
    source,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
