-- The run that produced the tables: code version, settings and time.
SELECT run_id, package_version, git_describe, settings_hash, settings_json, started_at, ended_at, status
FROM audit.runs
WHERE status = 'success'
ORDER BY started_at DESC
LIMIT 1
