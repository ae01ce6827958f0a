-- ISO 14044 interpretation: for each model and criterion, the largest components that together
-- make up at least 80 % of the total (the component that crosses 80 % is included).
WITH ranked AS (
    SELECT
        model,
        component,
        criterion,
        value,
        value / nullif(sum(value) OVER (PARTITION BY model, criterion), 0) AS share,
        sum(value) OVER (PARTITION BY model, criterion ORDER BY value DESC, component
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            / nullif(sum(value) OVER (PARTITION BY model, criterion), 0) AS cumulative_share
    FROM marts.model_lifecycle_components
    WHERE model IS NOT NULL AND value > 0
)
SELECT
    model,
    component,
    criterion,
    value,
    share,
    cumulative_share,
    row_number() OVER (PARTITION BY model, criterion ORDER BY value DESC, component) AS rank
FROM ranked
WHERE cumulative_share - share < 0.8
ORDER BY model, criterion, rank
