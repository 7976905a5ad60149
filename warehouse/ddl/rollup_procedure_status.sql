-- rollup.procedure_status: each registered project's procedures as of a report date, with the
-- authoritative status (the owning bureau's latest report beats the county's) and the light.
-- Grain: as_of_date × project × procedure, checked by the daily_rollup asset's one_row_per_grain check
-- (no key index: a year of days is ~20 M rows, and the index tripled the cost of writing them).
-- Rewritten whole for a range of dates by the daily rollup.
CREATE TABLE IF NOT EXISTS rollup.procedure_status (
    as_of_date           DATE NOT NULL,
    project_code         VARCHAR NOT NULL,
    unit_code            VARCHAR NOT NULL,
    procedure            VARCHAR NOT NULL,
    is_campaign          BOOLEAN NOT NULL,
    required             BOOLEAN NOT NULL,
    status               VARCHAR,
    approval_level       VARCHAR,
    promised_date        DATE,
    accepted_date        DATE,
    completed_date       DATE,
    approval_number      VARCHAR,
    workdays_left        INTEGER,  -- working days d with as_of_date < d <= promised_date
    light                VARCHAR,  -- 绿 | 黄 | 红 | NULL
    overdue_completion   BOOLEAN,
    authority            VARCHAR NOT NULL,  -- bureau | unit: whose record the status is
    source_submission_id VARCHAR NOT NULL,
    source_row           INTEGER NOT NULL,
    unit_status          VARCHAR,
    unit_completed_date  DATE,
    bureau_unit          VARCHAR,
    bureau_status        VARCHAR,
    bureau_completed_date DATE
);
