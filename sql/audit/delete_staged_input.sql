-- Clears the staging record of one unpartitioned input, before it is written again.
DELETE FROM audit.staged_inputs WHERE input = $input
