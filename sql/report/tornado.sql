-- Per model and parameter of marts.sensitivity: the lowest and highest change and the variants that
-- give them, widest swing first (one bar of the tornado chart each).
SELECT
    model,
    parameter,
    min(change_pct) AS low_pct,
    max(change_pct) AS high_pct,
    arg_min(variant, change_pct) AS low_variant,
    arg_max(variant, change_pct) AS high_variant
FROM marts.sensitivity
WHERE parameter <> 'baseline' AND change_pct IS NOT NULL AND model IS NOT NULL
GROUP BY model, parameter
ORDER BY model, max(change_pct) - min(change_pct) DESC, parameter
