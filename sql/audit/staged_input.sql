-- What the last staging of one unpartitioned input recorded (no row before its first staging).
SELECT stage_key, run_id, files, rows_staged, rows_quarantined, reasons_json, content_hash, window_start, window_end
FROM audit.staged_inputs
WHERE input = $input
