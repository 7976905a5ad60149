-- rollup.problem_status: each problem-ledger entry (问题台账) as of a report date: its latest accepted
-- version (later report date, then later arrival, wins). Grain: as_of_date × project × problem
-- description × reporting unit, checked by the daily_rollup asset's one_row_per_grain check (no key
-- index, as for procedure_status). Rewritten whole for a range of dates by the daily rollup.
CREATE TABLE IF NOT EXISTS rollup.problem_status (
    as_of_date       DATE NOT NULL,
    project_code     VARCHAR NOT NULL,
    description      VARCHAR NOT NULL,
    source_unit      VARCHAR NOT NULL,
    responsible_unit VARCHAR,
    raised_date      DATE,
    deadline         DATE,
    closed           BOOLEAN NOT NULL,
    closed_date      DATE,
    report_date      DATE NOT NULL,    -- the report date of the version that counts
    submission_id    VARCHAR NOT NULL
);
