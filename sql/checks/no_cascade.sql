-- Rows of this input lost only because a parent row (site, host, job) was quarantined: a cascade
-- must be accepted in lca.toml ([data] accept_cascades = true), never pass silently.
SELECT
    (count(*) = 0 OR $accept_cascades) AS passed,
    count(*) AS rows_cascaded,
    string_agg(DISTINCT column_name || ' ' || raw_value, ', ' ORDER BY column_name || ' ' || raw_value) AS parents,
    string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reasons
FROM audit.quarantine
WHERE input = $input AND reason LIKE 'cascade: %'
