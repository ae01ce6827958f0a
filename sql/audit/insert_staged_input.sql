-- Records one unpartitioned input's staging: its key and what it found (audit.staged_inputs).
INSERT INTO audit.staged_inputs
VALUES ($input, $stage_key, $run_id, current_timestamp::TIMESTAMP, $files, $rows_staged, $rows_quarantined, $reasons_json,
        $content_hash, $data_start, $data_end)
