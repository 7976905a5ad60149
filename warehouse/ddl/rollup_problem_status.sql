-- rollup.problem_status: each problem-ledger entry (问题台账) as of a report date: its latest accepted
-- version (later report date, then later arrival, wins). Grain: as_of_date × project × problem
-- description × reporting unit. Rewritten whole for a date by the daily rollup.
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
    submission_id    VARCHAR NOT NULL,
    PRIMARY KEY (as_of_date, project_code, description, source_unit)
);
