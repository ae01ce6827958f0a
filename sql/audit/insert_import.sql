-- Records one importer output file and the accounting of the export it came from.
INSERT INTO audit.imports
VALUES (
    $run_id, $kind, $source, $sha256, $output_input, $output_path, $rows_in, $rows_out, $rows_flagged,
    $rows_folded, $rows_written, $notes
)
