-- The sources of the grid carbon intensities in the warehouse.
SELECT DISTINCT source
FROM staging.grid_intensity
ORDER BY source NULLS LAST
