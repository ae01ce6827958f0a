-- Removes the previous accounting row for one file before it is rewritten.
DELETE FROM audit.source_files WHERE input = $input AND path = $path
