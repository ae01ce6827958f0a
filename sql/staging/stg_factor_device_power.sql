-- Device power defaults for estimate-mode jobs (TDP, default utilisation), from data/factors.
SELECT
    trim(device_model) AS device_model,
    CAST(tdp_w AS DOUBLE) AS tdp_w,
    CAST(default_utilisation AS DOUBLE) AS default_utilisation,
    TRY_CAST(idle_w AS DOUBLE) AS idle_w,
    source,
    $path AS source_file,
    $version AS factor_version
FROM read_csv($path, header = true, all_varchar = true)
ORDER BY device_model
