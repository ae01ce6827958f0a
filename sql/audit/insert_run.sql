-- Opens the audit record of one pipeline run: code version, settings hash and data directory.
INSERT INTO audit.runs
(run_id, dagster_run_id, started_at, ended_at, package_version, git_describe, settings_hash,
 settings_source, settings_json, data_dir, partition_range, status)
VALUES (
    $run_id, $run_id, $started_at, NULL, $package_version, $git_describe, $settings_hash,
    $settings_source, $settings_json, $data_dir, $partition_range, 'running'
)
