-- ref.procedure: the pre-construction procedures and the bureau that approves each.
-- Grain: one row per procedure.
CREATE TABLE IF NOT EXISTS ref.procedure (
    procedure  VARCHAR PRIMARY KEY,
    owner_unit VARCHAR NOT NULL,
    sort_order INTEGER NOT NULL
);
