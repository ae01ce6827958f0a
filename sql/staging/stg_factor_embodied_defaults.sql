-- Default embodied impact per unit by (kind, model); model '*' is the fallback for a kind.
SELECT
    lower(trim(kind)) AS kind,
    trim(model) AS model,
    TRY_CAST(gwp_low_kgco2e AS DOUBLE) AS gwp_low_kgco2e,
    TRY_CAST(gwp_central_kgco2e AS DOUBLE) AS gwp_central_kgco2e,
    TRY_CAST(gwp_high_kgco2e AS DOUBLE) AS gwp_high_kgco2e,
    TRY_CAST(water_l AS DOUBLE) AS water_l,
    TRY_CAST(adp_kgsbeq AS DOUBLE) AS adp_kgsbeq,
    TRY_CAST(lifetime_years AS DOUBLE) AS lifetime_years,
    source,
    $path AS source_file,
    $version AS factor_version
FROM read_csv($path, header = true, all_varchar = true)
ORDER BY kind, model
