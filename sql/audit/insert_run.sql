-- Opens the audit record of one pipeline run: code version, settings hash and data directory.
INSERT INTO audit.runs
VALUES (
    $run_id, $run_id, $started_at, NULL, $package_version, $git_describe, $settings_hash,
    $settings_source, $data_dir, $partition_range, 'running'
)
