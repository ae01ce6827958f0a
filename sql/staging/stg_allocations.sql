-- GPU allocations: start/end default to the job's; unknown jobs, hosts or GPU indices are quarantined.
WITH typed AS (
    SELECT
        source_file,
        source_row,
        NULLIF(trim(CAST(job_id AS VARCHAR)), '') AS job_id,
        NULLIF(trim(CAST(host AS VARCHAR)), '') AS host,
        TRY_CAST(gpu AS INTEGER) AS gpu,
        timezone('UTC', TRY_CAST("start" AS TIMESTAMPTZ)) AS start_ts,
        timezone('UTC', TRY_CAST("end" AS TIMESTAMPTZ)) AS end_ts,
        NULLIF(CAST(origin_file AS VARCHAR), '') AS origin_file,
        TRY_CAST(origin_line AS BIGINT) AS origin_line,
        NULLIF(trim(CAST(import_error AS VARCHAR)), '') AS import_error,
        src AS raw
    FROM src
),
joined AS (
    SELECT
        t.*,
        j.job_id AS known_job,
        h.host AS known_host,
        h.gpu_count,
        coalesce(t.start_ts, j."start") AS alloc_start,
        coalesce(t.end_ts, j."end") AS alloc_end
    FROM typed AS t
    LEFT JOIN staging.jobs AS j ON j.job_id = t.job_id
    LEFT JOIN staging.hosts AS h ON h.host = t.host
),
checked AS (
    SELECT
        *,
        CASE
            WHEN import_error IS NOT NULL
                THEN {'col': 'import_error', 'reason': 'import: ' || import_error, 'raw': import_error}
            WHEN job_id IS NULL THEN {'col': 'job_id', 'reason': 'missing required value', 'raw': NULL}
            WHEN host IS NULL THEN {'col': 'host', 'reason': 'missing required value', 'raw': NULL}
            WHEN raw.gpu IS NULL THEN {'col': 'gpu', 'reason': 'missing required value', 'raw': NULL}
            WHEN gpu IS NULL OR gpu < 0 OR TRY_CAST(raw.gpu AS DOUBLE) IS DISTINCT FROM gpu
                THEN {'col': 'gpu', 'reason': 'not a GPU index (integer >= 0)', 'raw': CAST(raw.gpu AS VARCHAR)}
            WHEN raw."start" IS NOT NULL AND start_ts IS NULL
                THEN {'col': 'start', 'reason': 'unparseable timestamp', 'raw': CAST(raw."start" AS VARCHAR)}
            WHEN raw."end" IS NOT NULL AND end_ts IS NULL
                THEN {'col': 'end', 'reason': 'unparseable timestamp', 'raw': CAST(raw."end" AS VARCHAR)}
            WHEN start_ts < CAST($data_start AS TIMESTAMP) OR start_ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'start', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(raw."start" AS VARCHAR)}
            WHEN end_ts < CAST($data_start AS TIMESTAMP) OR end_ts >= CAST($data_end AS TIMESTAMP)
                THEN {'col': 'end', 'reason': 'outside the data window ' || $data_window || ' ([data] window_start/window_end in lca.toml)', 'raw': CAST(raw."end" AS VARCHAR)}
            WHEN known_job IS NULL THEN {'col': 'job_id', 'reason': 'unknown job (not in jobs)', 'raw': job_id}
            WHEN known_host IS NULL THEN {'col': 'host', 'reason': 'unknown host (not in hosts)', 'raw': host}
            WHEN gpu_count IS NOT NULL AND gpu >= gpu_count
                THEN {'col': 'gpu', 'reason': 'GPU index beyond the host''s gpu_count', 'raw': CAST(raw.gpu AS VARCHAR)}
            WHEN alloc_end < alloc_start
                THEN {'col': 'end', 'reason': 'end before start', 'raw': CAST(alloc_end AS VARCHAR)}
        END AS qa
    FROM joined
),
deduped AS (
    SELECT
        *,
        CASE
            WHEN qa IS NULL
                AND row_number() OVER (PARTITION BY qa IS NULL, job_id, host, gpu, alloc_start ORDER BY source_file, source_row) > 1
                THEN {'col': 'job_id', 'reason': 'duplicate key (job_id, host, gpu, start)', 'raw': job_id}
            ELSE qa
        END AS qa_final
    FROM checked
),
collisions AS (
    -- Two jobs holding one GPU at once count its GPU-hours twice: unless [allocation] gpu_sharing
    -- is "split", the allocation that starts later (file order on a tie) is quarantined, naming
    -- the job it collides with.
    SELECT b.source_file, b.source_row, min(a.job_id) AS other_job
    FROM deduped AS a
    JOIN deduped AS b
        ON a.host = b.host AND a.gpu = b.gpu AND a.job_id <> b.job_id
        AND a.alloc_start < b.alloc_end AND b.alloc_start < a.alloc_end
        AND (a.alloc_start, a.source_file, a.source_row) < (b.alloc_start, b.source_file, b.source_row)
    WHERE a.qa_final IS NULL AND b.qa_final IS NULL AND $gpu_sharing = 'quarantine'
    GROUP BY b.source_file, b.source_row
),
final AS (
    SELECT
        d.*,
        CASE
            WHEN o.other_job IS NOT NULL
                THEN {'col': 'job_id',
                      'reason': 'overlapping allocation: GPU ' || d.host || ':' || d.gpu || ' is held by job '
                          || o.other_job || ' at the same time; the later allocation (job ' || d.job_id
                          || ') is quarantined',
                      'raw': d.job_id}
            ELSE d.qa_final
        END AS qa_out
    FROM deduped AS d
    LEFT JOIN collisions AS o ON o.source_file = d.source_file AND o.source_row = d.source_row
)
SELECT
    job_id,
    host,
    gpu,
    alloc_start AS "start",
    alloc_end AS "end",
    source_file,
    source_row,
    origin_file,
    origin_line,
    qa_out AS qa,
    raw,
    NULL::DATE AS partition_day
FROM final
