-- Site factors for every (site, hour) the ledger uses: zone, PUE, WUE and EWIF valid at the hour
-- start (the most recent valid_from wins when windows overlap). A missing PUE stays NULL and
-- fails the blocking check on this table. Hours in [window_start, window_end).
WITH needed AS (
    SELECT DISTINCT site, hour_start FROM intermediate.energy_ledger_hourly
    WHERE hour_start >= CAST($window_start AS TIMESTAMP) AND hour_start < CAST($window_end AS TIMESTAMP)
)
SELECT
    n.site,
    n.hour_start,
    s.zone,
    s.pue,
    s.wue_l_per_kwh,
    s.ewif_l_per_kwh,
    s.valid_from,
    s.source_file AS site_source_file,
    s.source_row AS site_source_row,
    CAST(n.hour_start AS DATE) AS partition_day
FROM needed AS n
LEFT JOIN staging.sites AS s
    ON s.site = n.site
    AND (s.valid_from IS NULL OR n.hour_start >= s.valid_from)
    AND (s.valid_to IS NULL OR n.hour_start < s.valid_to)
QUALIFY row_number() OVER (PARTITION BY n.site, n.hour_start ORDER BY s.valid_from DESC NULLS LAST) = 1
-- Hour first: a day's run appends its hours after the earlier days' (replace_window), so the table
-- lies in the order one run over all days gives it and readers add floats in the same order.
ORDER BY n.hour_start, n.site
