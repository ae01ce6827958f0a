-- Energy contracts (PPAs, RECs, GOs) per site with a validity window, for market-based carbon.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(site AS VARCHAR)), '') AS site,
        timezone('UTC', TRY_CAST(valid_from AS TIMESTAMPTZ)) AS valid_from,
        timezone('UTC', TRY_CAST(valid_to AS TIMESTAMPTZ)) AS valid_to,
        TRY_CAST(mwh AS DOUBLE) AS mwh,
        TRY_CAST(gco2e_per_kwh AS DOUBLE) AS gco2e_per_kwh,
        lower(NULLIF(trim(CAST(kind AS VARCHAR)), '')) AS kind,
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
            WHEN t.site IS NULL THEN {'col': 'site', 'reason': 'missing required value', 'raw': NULL}
            WHEN t.valid_from IS NULL
                THEN {'col': 'valid_from', 'reason': 'missing or unparseable timestamp', 'raw': CAST(t.raw.valid_from AS VARCHAR)}
            WHEN t.valid_to IS NULL
                THEN {'col': 'valid_to', 'reason': 'missing or unparseable timestamp', 'raw': CAST(t.raw.valid_to AS VARCHAR)}
            WHEN t.valid_to <= t.valid_from
                THEN {'col': 'valid_to', 'reason': 'end before start', 'raw': CAST(t.raw.valid_to AS VARCHAR)}
            WHEN t.mwh IS NULL OR t.mwh < 0 OR NOT isfinite(t.mwh)
                THEN {'col': 'mwh', 'reason': 'not a non-negative number', 'raw': CAST(t.raw.mwh AS VARCHAR)}
            WHEN t.gco2e_per_kwh IS NULL OR t.gco2e_per_kwh < 0 OR t.gco2e_per_kwh > 3000
                THEN {'col': 'gco2e_per_kwh', 'reason': 'intensity outside 0-3000 gCO2e/kWh', 'raw': CAST(t.raw.gco2e_per_kwh AS VARCHAR)}
            WHEN t.kind IS NULL OR t.kind NOT IN ('ppa', 'rec', 'go', 'other')
                THEN {'col': 'kind', 'reason': 'unknown kind (ppa, rec, go, other)', 'raw': CAST(t.raw.kind AS VARCHAR)}
            WHEN NOT EXISTS (SELECT 1 FROM staging.sites AS s WHERE s.site = t.site)
                THEN {'col': 'site', 'reason': 'unknown site (not in sites)', 'raw': t.site}
        END AS qa
    FROM typed AS t
),
deduped AS (
    -- An exact copy of a contract (same site, validity, MWh, intensity, kind) would count twice.
    SELECT
        *,
        CASE
            WHEN qa IS NULL AND row_number() OVER (
                    PARTITION BY qa IS NULL, site, valid_from, valid_to, mwh, gco2e_per_kwh, kind
                    ORDER BY source_file, source_row) > 1
                THEN {'col': 'site',
                      'reason': 'exact duplicate of the contract in row ' || CAST(first_value(source_row) OVER (
                          PARTITION BY qa IS NULL, site, valid_from, valid_to, mwh, gco2e_per_kwh, kind
                          ORDER BY source_file, source_row) AS VARCHAR) || ' (same site, validity, mwh, intensity, kind)',
                      'raw': site}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    source_file || ':' || source_row AS contract_id,
    site,
    valid_from,
    valid_to,
    mwh,
    gco2e_per_kwh,
    kind,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
