-- Every file of one input that staging has recorded, whole or in part.
SELECT path FROM audit.source_files WHERE input = $input
