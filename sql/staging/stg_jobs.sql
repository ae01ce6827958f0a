-- Jobs typed and checked; stage labels mapped through [stages] map, unknown labels quarantined.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(job_id AS VARCHAR)), '') AS job_id,
        NULLIF(trim(CAST(model AS VARCHAR)), '') AS model,
        lower(NULLIF(trim(CAST(stage AS VARCHAR)), '')) AS stage_label,
        upper(split_part(NULLIF(trim(CAST(state AS VARCHAR)), ''), ' ', 1)) AS state,
        timezone('UTC', TRY_CAST("start" AS TIMESTAMPTZ)) AS start_ts,
        timezone('UTC', TRY_CAST("end" AS TIMESTAMPTZ)) AS end_ts,
        NULLIF(trim(CAST(project AS VARCHAR)), '') AS project,
        NULLIF(trim(CAST("user" AS VARCHAR)), '') AS user_name,
        TRY_CAST(energy_kwh AS DOUBLE) AS energy_kwh,
        NULLIF(trim(CAST(site AS VARCHAR)), '') AS site,
        NULLIF(trim(CAST(device_model AS VARCHAR)), '') AS device_model,
        TRY_CAST(device_count AS INTEGER) AS device_count,
        TRY_CAST(avg_power_w AS DOUBLE) AS avg_power_w,
        TRY_CAST(cpu_energy_kwh AS DOUBLE) AS cpu_energy_kwh,
        TRY_CAST(gpu_energy_kwh AS DOUBLE) AS gpu_energy_kwh,
        TRY_CAST(ram_energy_kwh AS DOUBLE) AS ram_energy_kwh,
        TRY_CAST(codecarbon_emissions_kg AS DOUBLE) AS codecarbon_emissions_kg,
        TRY_CAST(cpu_power_w AS DOUBLE) AS cpu_power_w,
        TRY_CAST(dram_power_w AS DOUBLE) AS dram_power_w,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
mapped AS (
    SELECT
        *,
        CASE
            WHEN list_contains($stages, stage_label) THEN stage_label
            WHEN list_position($stage_map_from, stage_label) > 0
                THEN $stage_map_to[list_position($stage_map_from, stage_label)]
        END AS stage
    FROM typed
),
checked AS (
    SELECT
        m.*,
        CASE
            WHEN m.import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || m.import_error, 'raw': m.import_error}
            WHEN m.job_id IS NULL THEN {'col': 'job_id', 'reason': 'missing required value', 'raw': NULL}
            WHEN m.stage_label IS NULL THEN {'col': 'stage', 'reason': 'missing required value', 'raw': NULL}
            WHEN m.stage IS NULL
                THEN {'col': 'stage', 'reason': 'unknown stage label; map it with [stages] map in lca.toml',
                      'raw': CAST(m.raw.stage AS VARCHAR)}
            WHEN m.model IS NULL AND m.stage <> 'other'
                THEN {'col': 'model', 'reason': 'missing required value (only stage other may omit model)', 'raw': NULL}
            WHEN m.state IS NULL THEN {'col': 'state', 'reason': 'missing required value', 'raw': NULL}
            WHEN NOT list_contains($job_states, m.state)
                THEN {'col': 'state', 'reason': 'unknown job state', 'raw': CAST(m.raw.state AS VARCHAR)}
            WHEN m.raw."start" IS NULL THEN {'col': 'start', 'reason': 'missing required value', 'raw': NULL}
            WHEN m.start_ts IS NULL
                THEN {'col': 'start', 'reason': 'unparseable timestamp', 'raw': CAST(m.raw."start" AS VARCHAR)}
            WHEN m.raw."end" IS NULL THEN {'col': 'end', 'reason': 'missing required value', 'raw': NULL}
            WHEN m.end_ts IS NULL
                THEN {'col': 'end', 'reason': 'unparseable timestamp', 'raw': CAST(m.raw."end" AS VARCHAR)}
            WHEN m.start_ts < CAST($data_start AS TIMESTAMP) OR m.start_ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'start', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(m.raw."start" AS VARCHAR)}
            WHEN m.end_ts < CAST($data_start AS TIMESTAMP) OR m.end_ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'end', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(m.raw."end" AS VARCHAR)}
            WHEN m.end_ts < m.start_ts
                THEN {'col': 'end', 'reason': 'end before start', 'raw': CAST(m.raw."end" AS VARCHAR)}
            WHEN m.raw.energy_kwh IS NOT NULL AND (m.energy_kwh IS NULL OR m.energy_kwh < 0 OR NOT isfinite(m.energy_kwh))
                THEN {'col': 'energy_kwh', 'reason': 'not a non-negative number', 'raw': CAST(m.raw.energy_kwh AS VARCHAR)}
            WHEN m.raw.device_count IS NOT NULL AND (m.device_count IS NULL OR m.device_count < 1
                    OR m.device_count > 100000 OR TRY_CAST(m.raw.device_count AS DOUBLE) IS DISTINCT FROM m.device_count)
                THEN {'col': 'device_count', 'reason': 'not a whole number in [1, 100000]', 'raw': CAST(m.raw.device_count AS VARCHAR)}
            -- A device cannot draw more than a whole node's bound for the job's duration (at least 1 s).
            -- A job measured as a whole with no device count (a published training run) may span a
            -- fleet: it is bounded as if it held the most devices a job may declare (100,000).
            WHEN m.energy_kwh > coalesce(m.device_count, 100000) * greatest(epoch(m.end_ts - m.start_ts), 1) / 3600.0
                    * $max_node_power_w / 1000.0
                THEN {'col': 'energy_kwh',
                      'reason': 'energy per device-hour above the bound of ' || CAST($max_node_power_w / 1000.0 AS VARCHAR)
                          || ' kWh ([telemetry] max_node_power_w over the job''s devices, 100,000 when device_count is empty, and duration)',
                      'raw': CAST(m.raw.energy_kwh AS VARCHAR)}
            WHEN (m.raw.cpu_energy_kwh IS NOT NULL AND (m.cpu_energy_kwh IS NULL OR m.cpu_energy_kwh < 0 OR NOT isfinite(m.cpu_energy_kwh)))
                OR (m.raw.gpu_energy_kwh IS NOT NULL AND (m.gpu_energy_kwh IS NULL OR m.gpu_energy_kwh < 0 OR NOT isfinite(m.gpu_energy_kwh)))
                OR (m.raw.ram_energy_kwh IS NOT NULL AND (m.ram_energy_kwh IS NULL OR m.ram_energy_kwh < 0 OR NOT isfinite(m.ram_energy_kwh)))
                THEN {'col': 'cpu_energy_kwh', 'reason': 'a component energy (cpu_, gpu_, ram_energy_kwh) is not a non-negative number', 'raw': NULL}
            WHEN m.raw.codecarbon_emissions_kg IS NOT NULL
                AND (m.codecarbon_emissions_kg IS NULL OR m.codecarbon_emissions_kg < 0 OR NOT isfinite(m.codecarbon_emissions_kg))
                THEN {'col': 'codecarbon_emissions_kg', 'reason': 'not a non-negative number', 'raw': CAST(m.raw.codecarbon_emissions_kg AS VARCHAR)}
            WHEN m.raw.avg_power_w IS NOT NULL AND (m.avg_power_w IS NULL OR m.avg_power_w < 0 OR NOT isfinite(m.avg_power_w))
                THEN {'col': 'avg_power_w', 'reason': 'not a non-negative number', 'raw': CAST(m.raw.avg_power_w AS VARCHAR)}
            WHEN m.raw.cpu_power_w IS NOT NULL AND (m.cpu_power_w IS NULL OR m.cpu_power_w < 0 OR NOT isfinite(m.cpu_power_w))
                THEN {'col': 'cpu_power_w', 'reason': 'not a non-negative number', 'raw': CAST(m.raw.cpu_power_w AS VARCHAR)}
            WHEN m.raw.dram_power_w IS NOT NULL AND (m.dram_power_w IS NULL OR m.dram_power_w < 0 OR NOT isfinite(m.dram_power_w))
                THEN {'col': 'dram_power_w', 'reason': 'not a non-negative number', 'raw': CAST(m.raw.dram_power_w AS VARCHAR)}
            WHEN m.avg_power_w > $max_gpu_power_w
                THEN {'col': 'avg_power_w', 'reason': 'power above physical bound ([telemetry] max_gpu_power_w)',
                      'raw': CAST(m.raw.avg_power_w AS VARCHAR)}
            WHEN m.site IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staging.sites AS s WHERE s.site = m.site)
                THEN {'col': 'site', 'reason': 'unknown site (not in sites)', 'raw': m.site}
        END AS qa
    FROM mapped AS m
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, job_id ORDER BY source_file, source_row) > 1
                THEN {'col': 'job_id', 'reason': 'duplicate key (job_id)', 'raw': job_id}
            ELSE qa
        END AS qa_final
    FROM checked
)
SELECT
    job_id,
    model,
    stage,
    stage_label,
    state,
    start_ts AS "start",
    end_ts AS "end",
    project,
    user_name AS "user",
    energy_kwh,
    site,
    device_model,
    device_count,
    avg_power_w,
    cpu_energy_kwh,
    gpu_energy_kwh,
    ram_energy_kwh,
    codecarbon_emissions_kg,
    cpu_power_w,
    dram_power_w,
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_final AS qa,
    raw,
    NULL::DATE AS partition_day
FROM deduped
