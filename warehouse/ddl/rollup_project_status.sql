-- rollup.project_status: each project's registration as of a report date.
-- Grain: as_of_date × project. Rewritten whole for a date by the daily rollup.
CREATE TABLE IF NOT EXISTS rollup.project_status (
    as_of_date         DATE NOT NULL,
    project_code       VARCHAR NOT NULL,
    unit_code          VARCHAR NOT NULL,
    project_name       VARCHAR NOT NULL,
    total_investment   DOUBLE NOT NULL,
    planned_start_date DATE,
    construction_state VARCHAR NOT NULL,
    actual_start_date  DATE,
    responsible_leader VARCHAR,
    is_campaign        BOOLEAN NOT NULL,
    submission_id      VARCHAR NOT NULL,
    PRIMARY KEY (as_of_date, project_code)
);
