-- Records the version about to be published (it travels inside the published file).
INSERT INTO audit.publications VALUES ($run_id, $published_at, $partition_range, $settings_hash)
