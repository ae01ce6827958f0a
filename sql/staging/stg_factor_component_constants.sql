-- Named constants of the component model (fab grid intensity, packaging, per-GB factors).
SELECT
    trim(name) AS name,
    CAST(value AS DOUBLE) AS value,
    unit,
    source,
    $path AS source_file,
    $version AS factor_version
FROM read_csv($path, header = true, all_varchar = true)
ORDER BY name
