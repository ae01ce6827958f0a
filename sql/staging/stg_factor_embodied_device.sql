-- Per-device embodied defaults (GPU plus its share of the host) for estimate-mode jobs.
SELECT
    trim(device_model) AS device_model,
    CAST(gwp_kgco2e_per_device AS DOUBLE) AS gwp_kgco2e_per_device,
    CAST(lifetime_years AS DOUBLE) AS lifetime_years,
    source,
    $path AS source_file,
    $version AS factor_version
FROM read_csv($path, header = true, all_varchar = true)
ORDER BY device_model
