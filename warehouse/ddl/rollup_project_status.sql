-- rollup.project_status: each project's registration as of a report date.
-- Grain: as_of_date × project, checked by the daily_rollup asset's one_row_per_grain check (no key
-- index, as for procedure_status). Rewritten whole for a range of dates by the daily rollup.
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
    submission_id      VARCHAR NOT NULL
);
