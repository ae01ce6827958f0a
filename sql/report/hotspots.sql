-- Components ranked by their share of each model's total, per criterion.
SELECT model, component, criterion, value, share, cumulative_share
FROM marts.hotspots
ORDER BY model NULLS LAST, criterion, cumulative_share NULLS LAST, value DESC, component
