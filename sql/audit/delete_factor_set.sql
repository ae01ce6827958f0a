-- Removes a factor table's previous registration before it is re-registered.
DELETE FROM audit.factor_sets WHERE factor_table = $factor_table
