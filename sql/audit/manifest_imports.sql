-- Exports converted by importers, for the manifest.
SELECT kind, source, sha256, output_input, output_path, rows_in, rows_out, rows_flagged, rows_folded, rows_written
FROM audit.imports
ORDER BY kind, source, output_input
