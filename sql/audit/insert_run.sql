-- One run of the run log as a row of audit.runs.
INSERT INTO audit.runs
(run_id, dagster_run_id, started_at, ended_at, status, failure, checks_failed, published_version, launcher,
 pid, host, package_version, git_describe, settings_hash, settings_source, settings_json, data_dir,
 partition_range)
VALUES (
    $run_id, $run_id, CAST($started_at AS TIMESTAMP), CAST($ended_at AS TIMESTAMP), $status, $failure,
    CAST($checks_failed AS VARCHAR[]), $version, $launcher, $pid, $host, $package_version, $git_describe,
    $settings_hash, $settings_source, $settings_json, $data_dir, $partition_range
)
