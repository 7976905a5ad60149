-- rollup.rollup_run: when each report date's rollup was last materialised, and how.
-- Grain: one row per as_of_date.
CREATE TABLE IF NOT EXISTS rollup.rollup_run (
    as_of_date       DATE PRIMARY KEY,
    materialised_at  TIMESTAMP NOT NULL,
    yellow_workdays  INTEGER NOT NULL,
    calendar_sources VARCHAR NOT NULL, -- e.g. 'official' or 'official,fallback'
    submissions_seq  BIGINT            -- the last submission merged when this day was materialised
);
