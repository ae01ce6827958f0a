-- Closes a run's audit record with its end time and outcome.
UPDATE audit.runs SET ended_at = $ended_at, status = $status WHERE run_id = $run_id
