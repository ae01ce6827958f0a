-- One criterion of marts.model_lifecycle_components summed per model and component; the
-- unallocated-capacity row (model NULL) is labelled so it can be drawn as a bar.
SELECT
    coalesce(model, $unallocated_label) AS model,
    component,
    sum(value) AS value,
    string_agg(DISTINCT unit, ', ' ORDER BY unit) AS unit
FROM marts.model_lifecycle_components
WHERE criterion = $criterion
GROUP BY ALL
ORDER BY model, component
