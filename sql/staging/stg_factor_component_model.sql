-- ACT-style per-process-node coefficients for logic dies (EPA, GPA, MPA, yield).
SELECT
    CAST(process_nm AS DOUBLE) AS process_nm,
    CAST(epa_kwh_per_cm2 AS DOUBLE) AS epa_kwh_per_cm2,
    CAST(gpa_g_per_cm2 AS DOUBLE) AS gpa_g_per_cm2,
    CAST(mpa_g_per_cm2 AS DOUBLE) AS mpa_g_per_cm2,
    CAST(yield AS DOUBLE) AS yield,
    TRY_CAST(gpa_low_g_per_cm2 AS DOUBLE) AS gpa_low_g_per_cm2,
    TRY_CAST(gpa_high_g_per_cm2 AS DOUBLE) AS gpa_high_g_per_cm2,
    source,
    $path AS source_file,
    $version AS factor_version
FROM read_csv($path, header = true, all_varchar = true)
ORDER BY process_nm
