-- Sites with grid zone, PUE and water factors; validity windows allow time-varying PUE.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(site AS VARCHAR)), '') AS site,
        NULLIF(trim(CAST(zone AS VARCHAR)), '') AS zone,
        TRY_CAST(pue AS DOUBLE) AS pue,
        TRY_CAST(wue_l_per_kwh AS DOUBLE) AS wue_l_per_kwh,
        TRY_CAST(ewif_l_per_kwh AS DOUBLE) AS ewif_l_per_kwh,
        timezone('UTC', TRY_CAST(valid_from AS TIMESTAMPTZ)) AS valid_from,
        timezone('UTC', TRY_CAST(valid_to AS TIMESTAMPTZ)) AS valid_to,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
checked AS (
    SELECT
        *,
        CASE
            WHEN import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || import_error, 'raw': import_error}
            WHEN site IS NULL THEN {'col': 'site', 'reason': 'missing required value', 'raw': NULL}
            WHEN zone IS NULL THEN {'col': 'zone', 'reason': 'missing required value', 'raw': NULL}
            WHEN raw.pue IS NULL THEN {'col': 'pue', 'reason': 'missing required value', 'raw': NULL}
            WHEN pue IS NULL OR pue < 1 OR pue > 5
                THEN {'col': 'pue', 'reason': 'PUE must be a number in [1, 5]', 'raw': CAST(raw.pue AS VARCHAR)}
            WHEN raw.wue_l_per_kwh IS NOT NULL AND (wue_l_per_kwh IS NULL OR wue_l_per_kwh < 0 OR wue_l_per_kwh > 100)
                THEN {'col': 'wue_l_per_kwh', 'reason': 'WUE must be a number in [0, 100] L/kWh', 'raw': CAST(raw.wue_l_per_kwh AS VARCHAR)}
            WHEN raw.ewif_l_per_kwh IS NOT NULL AND (ewif_l_per_kwh IS NULL OR ewif_l_per_kwh < 0 OR ewif_l_per_kwh > 1000)
                THEN {'col': 'ewif_l_per_kwh', 'reason': 'EWIF must be a number in [0, 1000] L/kWh', 'raw': CAST(raw.ewif_l_per_kwh AS VARCHAR)}
            WHEN raw.valid_from IS NOT NULL AND valid_from IS NULL
                THEN {'col': 'valid_from', 'reason': 'unparseable timestamp', 'raw': CAST(raw.valid_from AS VARCHAR)}
            WHEN raw.valid_to IS NOT NULL AND valid_to IS NULL
                THEN {'col': 'valid_to', 'reason': 'unparseable timestamp', 'raw': CAST(raw.valid_to AS VARCHAR)}
            WHEN valid_to <= valid_from
                THEN {'col': 'valid_to', 'reason': 'end before start', 'raw': CAST(raw.valid_to AS VARCHAR)}
        END AS qa
    FROM typed
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, site, valid_from ORDER BY source_file, source_row) > 1
                THEN {'col': 'site', 'reason': 'duplicate key (site, valid_from)', 'raw': site}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    site,
    zone,
    pue,
    wue_l_per_kwh,
    ewif_l_per_kwh,
    valid_from,
    valid_to,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
