-- Databases written before settings were recorded gain the column (no-op when present).
ALTER TABLE audit.runs ADD COLUMN IF NOT EXISTS settings_json VARCHAR
