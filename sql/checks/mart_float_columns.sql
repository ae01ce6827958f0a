-- The floating-point columns of one table, whose values the finite check counts.
SELECT column_name
FROM information_schema.columns
WHERE table_schema = $schema AND table_name = $table AND data_type IN ('DOUBLE', 'FLOAT', 'REAL')
ORDER BY ordinal_position
