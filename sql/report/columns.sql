-- The columns a table has, in order (none when it does not exist): the report checks what an older
-- warehouse lacks before it selects, and says so instead of failing.
SELECT column_name
FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = $schema AND table_name = $table
ORDER BY ordinal_position
