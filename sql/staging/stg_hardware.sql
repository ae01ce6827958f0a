-- Procurement records: per-unit embodied values or specs; service dates and references checked.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(asset_id AS VARCHAR)), '') AS asset_id,
        lower(NULLIF(trim(CAST(kind AS VARCHAR)), '')) AS kind,
        NULLIF(trim(CAST(model AS VARCHAR)), '') AS model,
        TRY_CAST(quantity AS INTEGER) AS quantity,
        NULLIF(trim(CAST(site AS VARCHAR)), '') AS site,
        TRY_CAST(in_service AS DATE) AS in_service,
        TRY_CAST(lifetime_years AS DOUBLE) AS lifetime_years,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        TRY_CAST(gpu AS INTEGER) AS gpu,
        TRY_CAST(retired AS DATE) AS retired,
        NULLIF(trim(CAST(manufacturer AS VARCHAR)), '') AS manufacturer,
        TRY_CAST(embodied_kgco2e AS DOUBLE) AS embodied_kgco2e,
        TRY_CAST(embodied_water_l AS DOUBLE) AS embodied_water_l,
        TRY_CAST(embodied_adp_kgsbeq AS DOUBLE) AS embodied_adp_kgsbeq,
        NULLIF(trim(CAST(embodied_source AS VARCHAR)), '') AS embodied_source,
        TRY_CAST(die_area_mm2 AS DOUBLE) AS die_area_mm2,
        TRY_CAST(process_nm AS DOUBLE) AS process_nm,
        TRY_CAST(memory_gb AS DOUBLE) AS memory_gb,
        TRY_CAST(capacity_gb AS DOUBLE) AS capacity_gb,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
checked AS (
    SELECT
        t.*,
        CASE
            WHEN t.import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || t.import_error, 'raw': t.import_error}
            WHEN t.asset_id IS NULL THEN {'col': 'asset_id', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.kind IS NULL THEN {'col': 'kind', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.kind NOT IN ('server', 'gpu', 'cpu', 'dram', 'ssd', 'hdd', 'network', 'storage', 'other')
                THEN {'col': 'kind', 'reason': 'unknown kind', 'raw': CAST(t.raw.kind AS VARCHAR)}
            WHEN t.model IS NULL THEN {'col': 'model', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.quantity IS NULL OR t.quantity < 1 OR t.quantity > 1000000
                    OR TRY_CAST(t.raw.quantity AS DOUBLE) IS DISTINCT FROM t.quantity
                THEN {'col': 'quantity', 'reason': 'not a whole number in [1, 1000000]', 'raw': CAST(t.raw.quantity AS VARCHAR)}
            WHEN t.site IS NULL THEN {'col': 'site', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.in_service IS NULL
                THEN {'col': 'in_service', 'reason': 'missing or unparseable date', 'raw': CAST(t.raw.in_service AS VARCHAR)}
            WHEN CAST(t.in_service AS TIMESTAMP) < CAST($data_start AS TIMESTAMP)
                    OR CAST(t.in_service AS TIMESTAMP) >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'in_service', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(t.raw.in_service AS VARCHAR)}
            WHEN t.lifetime_years IS NULL OR NOT isfinite(t.lifetime_years) OR t.lifetime_years <= 0 OR t.lifetime_years > 100
                THEN {'col': 'lifetime_years', 'reason': 'not a number of years in (0, 100]', 'raw': CAST(t.raw.lifetime_years AS VARCHAR)}
            WHEN t.raw.retired IS NOT NULL AND t.retired IS NULL
                THEN {'col': 'retired', 'reason': 'unparseable date', 'raw': CAST(t.raw.retired AS VARCHAR)}
            WHEN t.retired < t.in_service
                THEN {'col': 'retired', 'reason': 'end before start', 'raw': CAST(t.raw.retired AS VARCHAR)}
            WHEN t.raw.gpu IS NOT NULL AND (t.gpu IS NULL OR t.gpu < 0 OR TRY_CAST(t.raw.gpu AS DOUBLE) IS DISTINCT FROM t.gpu)
                THEN {'col': 'gpu', 'reason': 'not a GPU index (integer >= 0)', 'raw': CAST(t.raw.gpu AS VARCHAR)}
            WHEN t.raw.embodied_kgco2e IS NOT NULL AND (t.embodied_kgco2e IS NULL OR t.embodied_kgco2e < 0 OR t.embodied_kgco2e > 1000000)
                THEN {'col': 'embodied_kgco2e', 'reason': 'not a number in [0, 1000000] kgCO2e per unit', 'raw': CAST(t.raw.embodied_kgco2e AS VARCHAR)}
            WHEN t.raw.embodied_water_l IS NOT NULL AND (t.embodied_water_l IS NULL OR t.embodied_water_l < 0 OR NOT isfinite(t.embodied_water_l))
                THEN {'col': 'embodied_water_l', 'reason': 'not a non-negative number', 'raw': CAST(t.raw.embodied_water_l AS VARCHAR)}
            WHEN t.raw.embodied_adp_kgsbeq IS NOT NULL AND (t.embodied_adp_kgsbeq IS NULL OR t.embodied_adp_kgsbeq < 0 OR NOT isfinite(t.embodied_adp_kgsbeq))
                THEN {'col': 'embodied_adp_kgsbeq', 'reason': 'not a non-negative number', 'raw': CAST(t.raw.embodied_adp_kgsbeq AS VARCHAR)}
            WHEN (t.raw.die_area_mm2 IS NOT NULL AND (t.die_area_mm2 IS NULL OR t.die_area_mm2 < 0 OR NOT isfinite(t.die_area_mm2)))
                OR (t.raw.process_nm IS NOT NULL AND (t.process_nm IS NULL OR t.process_nm <= 0 OR NOT isfinite(t.process_nm)))
                OR (t.raw.memory_gb IS NOT NULL AND (t.memory_gb IS NULL OR t.memory_gb < 0 OR NOT isfinite(t.memory_gb)))
                OR (t.raw.capacity_gb IS NOT NULL AND (t.capacity_gb IS NULL OR t.capacity_gb < 0 OR NOT isfinite(t.capacity_gb)))
                THEN {'col': 'specs', 'reason': 'a spec (die_area_mm2, process_nm, memory_gb, capacity_gb) is not a positive number', 'raw': NULL}
            WHEN NOT EXISTS (SELECT 1 FROM staging.sites AS s WHERE s.site = t.site)
                THEN {'col': 'site', 'reason': 'unknown site (not in sites)', 'raw': t.site}
            WHEN t.host IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staging.hosts AS h WHERE h.host = t.host)
                THEN {'col': 'host', 'reason': 'unknown host (not in hosts)', 'raw': t.host}
        END AS qa
    FROM typed AS t
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, asset_id ORDER BY source_file, source_row) > 1
                THEN {'col': 'asset_id', 'reason': 'duplicate key (asset_id)', 'raw': asset_id}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    asset_id, kind, model, quantity, site, in_service, lifetime_years, host, gpu, retired, manufacturer,
    embodied_kgco2e, embodied_water_l, embodied_adp_kgsbeq, embodied_source,
    die_area_mm2, process_nm, memory_gb, capacity_gb,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
