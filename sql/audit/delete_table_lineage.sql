-- Lineage describes the tables as they are now: the previous run's rows are replaced.
DELETE FROM audit.table_lineage
