-- ref.unit: the submitting units (reference data, reloaded from schemas/reference/units.csv).
-- Grain: one row per unit.
CREATE TABLE IF NOT EXISTS ref.unit (
    unit_code  VARCHAR PRIMARY KEY,
    unit_name  VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,  -- county | park | bureau
    admin_code VARCHAR
);
