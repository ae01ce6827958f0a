-- Clears the assumptions an asset recorded in an earlier run before it records them again.
DELETE FROM audit.assumptions WHERE asset = $asset
