-- Quarantined input rows counted by input and reason.
SELECT input, reason, count(*) AS rows
FROM audit.quarantine
GROUP BY ALL
ORDER BY input NULLS LAST, reason NULLS LAST
