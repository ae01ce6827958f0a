-- Imports are redone from the exports on every run; the previous run's record is replaced.
DELETE FROM audit.imports
