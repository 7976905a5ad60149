-- ref.calendar: the working-day calendar (official, with 调休) for every day the warehouse needs.
-- Grain: one row per date. workday_seq counts working days up to and including the date, so the
-- working days d with a < d <= b number workday_seq(b) - workday_seq(a).
CREATE TABLE IF NOT EXISTS ref.calendar (
    day         DATE PRIMARY KEY,
    is_workday  BOOLEAN NOT NULL,
    workday_seq INTEGER NOT NULL,
    source      VARCHAR NOT NULL  -- official | override | fallback (Monday–Friday, year unknown)
);
